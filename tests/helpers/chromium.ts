// Debian's Chromium as every browser test here starts it (DEVELOPERS.md): no sandbox as root, no
// GPU, and none of its own network traffic, which this machine's closed network refuses.
export const CHROMIUM_PATH = process.env.CHATP2P_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
