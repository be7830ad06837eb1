// Types of the IPC contract with the Rust shell, copied from ui/IPC.md.
// Type declarations only: the app never loads this file.

export type Mode = "demo" | "configured";
export type Redirect = "loopback" | "deep-link";

export interface AppInfo {
  mode: Mode;
  name: string;
  version: string;
  /** The Tauri version the app is built with. */
  tauriVersion: string;
  /** The folder of the log files; null when logs go to standard error only. */
  logFolder: string | null;
  issuer: string;
  clientId: string;
  itemsApi: string;
  redirect: Redirect;
  /** `warning` says why tokens are kept in memory only. */
  keyring: { kind: "keyring" | "memory"; warning: string | null };
  /** Empty unless `mode` is "demo". */
  demoUsers: { username: string; password: string }[];
  /** The profile in use ("default": the configuration file's top level). */
  profile: string;
  /** The profiles to choose from ("default" first); empty when the file has no named ones. */
  profiles: string[];
  /** ISO 4217 code prices are shown in (TESSERA_CURRENCY, `currency` in tessera.toml; default EUR). */
  currency: string;
}

export interface AccountView {
  id: string;
  name: string;
  email: string | null;
  login: string | null;
  /** Its refresh token no longer works. */
  needsSignIn: boolean;
  active: boolean;
  /** The profile it belongs to; null when no profile signs in where it was signed in. */
  profile: string | null;
}

/** What a sign-in did. */
export interface SignedInView {
  account: AccountView;
  /** Set when adding or switching brought back someone already signed in. */
  notice: string | null;
}

export interface SessionState {
  accounts: AccountView[];
  active: AccountView | null;
  signingIn: boolean;
  /** Set while the active account's tokens cannot be refreshed; the session is kept. */
  offline: OfflineView | null;
}

/** The provider could not be reached at the last background refresh. */
export interface OfflineView {
  /** The first failed attempt in a row, unix seconds. */
  since: number;
  /** The next attempt, unix seconds. */
  retryAt: number;
  attempts: number;
  /** What went wrong. */
  message: string;
}

export interface SessionDetails {
  account: AccountView;
  issuer: string;
  subject: string;
  /** Granted scopes. */
  scopes: string[];
  /** Access token expiry, unix seconds. */
  expiresAt: number;
  /** Unix seconds of the last refresh; null if none since sign-in. */
  lastRefresh: number | null;
  /** The granted scopes include items:write. */
  canWrite: boolean;
  /** Thumbprint of the key the tokens are bound to (DPoP); null for bearer tokens. */
  boundKey: string | null;
}

export interface SignOutView {
  account: AccountView;
  logoutOpened: boolean;
  warning: string | null;
}

export interface Item {
  id: string;
  name: string;
  description: string;
  price: number;
  tags: string[];
  owner: string;
  createdAt: string;
  updatedAt: string;
}

export interface ItemPage {
  items: Item[];
  nextCursor: string | null;
}

export interface NewItem {
  name: string;
  description: string;
  price: number;
  tags: string[];
}

export interface ItemPatch {
  name?: string;
  description?: string;
  price?: number;
  tags?: string[];
}

export interface ListItemsArgs {
  q?: string;
  tag?: string;
  cursor?: string;
  limit?: number;
}

export interface Settings {
  source: "demo" | "file" | "environment";
  /** Environment variables that override the file (shown read-only). */
  envOverrides: string[];
  issuer: string;
  clientId: string;
  scopes: string;
  redirect: Redirect;
  /** The loopback ports as written ("8765 8766", or "any"); empty: the default list. */
  loopbackPorts: string;
  /** The default loopback ports, for the field's placeholder. */
  defaultLoopbackPorts: string;
  deepLinkScheme: string;
  prompt: string;
  itemsApi: string;
  /** Bind tokens to this device (DPoP) when the provider offers it. */
  dpop: boolean;
}

/** The settings check: `tessera doctor`'s report. */
export interface DoctorReport {
  checks: DoctorCheck[];
  register: DoctorRegister;
}

export interface DoctorCheck {
  /** "discovery", "authorization_server", "grant_types", "scopes", "par", "dpop", "clock", "items_api", "items_api_auth", "items_api_scopes" */
  name: string;
  ok: boolean;
  detail: string;
}

/** What to register in the Okta app. */
export interface DoctorRegister {
  appType: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
}

export interface SettingsInput {
  /** An issuer URL, or a bare Okta domain (dev-123.okta.com). */
  issuer: string;
  clientId: string;
  scopes: string;
  redirect: Redirect;
  /** The loopback ports ("8765 8766", or "any"); empty: the default list. */
  loopbackPorts: string;
  prompt: string;
  itemsApi: string;
  dpop: boolean;
}

export interface SignInProgress {
  phase: "waiting" | "browser-failed" | "done" | "failed" | "signed-out";
  /**
   * With "waiting" (once the browser was sent there) and "browser-failed": the latest link to sign in
   * with. Each renewal (before its pushed request expires) comes as another event of the same phase.
   */
  url: string | null;
  /** Unix seconds when the sign-in under way stops waiting (with "waiting" and "browser-failed"). */
  deadline?: number | null;
}

/** The part of Tauri's global API (`withGlobalTauri`) the app uses. */
export interface TauriGlobal {
  core: {
    invoke(cmd: string, args?: Record<string, unknown>): Promise<unknown>;
  };
  event: {
    listen(event: string, handler: (event: { payload: unknown }) => void): Promise<() => void>;
  };
}

declare global {
  interface Window {
    __TAURI__?: TauriGlobal;
  }
}
