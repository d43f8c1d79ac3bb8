// Chromium cannot load a custom scheme, so a window of `app://chatp2p/...` shows
// `https://chatp2p.app.invalid/...`: a secure origin whose every request the stand-in answers from
// the app's protocol handler (chromium.ts). The `.invalid` name is never resolved.
const INTERCEPT_TLD = 'invalid';

export const interceptionPattern = `https://*.${INTERCEPT_TLD}/**`;

/** `app://chatp2p/x` -> `https://chatp2p.app.invalid/x`. */
export function interceptionUrl(appUrl: string): string {
  const url = new URL(appUrl);
  const scheme = url.protocol.slice(0, -1);
  return `https://${url.host}.${scheme}.${INTERCEPT_TLD}${url.pathname}${url.search}${url.hash}`;
}

/** The inverse, for the URL a page reports as its own (the IPC sender frame); others pass as they are. */
export function appUrlOf(pageUrl: string): string {
  let url: URL;
  try {
    url = new URL(pageUrl);
  } catch {
    return pageUrl;
  }
  const labels = url.hostname.split('.');
  if (url.protocol !== 'https:' || labels.length !== 3 || labels[2] !== INTERCEPT_TLD) return pageUrl;
  return `${labels[1]}://${labels[0]}${url.pathname}${url.search}${url.hash}`;
}
