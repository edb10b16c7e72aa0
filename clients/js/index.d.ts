export interface Challenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}
export function parseChallenges(header: string | null | undefined): Challenge[];
export function retryAfterSeconds(value: string | null, now?: number): number | null;
export interface WardenFetchOptions {
  fetch?: typeof fetch;
  loginUrl?: string;
  onUnauthenticated?: (info: { response: Response; challenges: Challenge[]; loginUrl: string }) =>
    boolean | void | Promise<boolean | void>;
  onForbidden?: (info: { response: Response; problem: Record<string, unknown> | null }) => void;
  maxRetryAfter?: number;
  sleep?: (ms: number) => Promise<void>;
}
export function createWardenFetch(options?: WardenFetchOptions): typeof fetch;
