// What the test and the stand-in Electron process say to each other over the child-process IPC
// channel: the test asks (read the state, click a notification or a tray item, blur or close a
// window), the runtime answers, and it reports when the app is ready or has Chromium up.

/** What a user could see of the desktop side: windows, tray, badge, notifications, dialogs. */
export interface DesktopState {
  ready: boolean;
  holdsSingleInstanceLock: boolean;
  windows: Array<{ id: number; url: string; title: string; visible: boolean; focused: boolean; minimized: boolean }>;
  notifications: Array<{ id: number; title: string; body: string; shown: boolean; closed: boolean; failed?: string }>;
  tray: { tooltip: string; menu: MenuItemState[] } | undefined;
  badgeCount: number;
  applicationMenu: MenuItemState[] | undefined;
  errorBoxes: Array<{ title: string; content: string }>;
  openedExternal: string[];
}

export interface MenuItemState {
  label: string;
  role?: string;
  type?: string;
  checked?: boolean;
}

export interface ControlOps {
  state: { args: []; result: DesktopState };
  clickNotification: { args: [id: number]; result: void };
  clickTray: { args: []; result: void };
  clickTrayItem: { args: [label: string]; result: void };
  /** The user clicks another application: the window stays on screen without the focus. */
  blurWindow: { args: [id: number]; result: void };
  /** The user clicks the window's close button. */
  closeWindow: { args: [id: number]; result: void };
}

export type ControlOp = keyof ControlOps;

export type ToRuntime = { kind: 'call'; id: number; op: ControlOp; args: unknown[] };

export type FromRuntime =
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string }
  /** Chromium is up: the test attaches to it over the DevTools protocol on this port. */
  | { kind: 'devtools'; port: number };
