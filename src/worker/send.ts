// The Durable Objects' outgoing calls: run to completion, the reply or the failure fed back to the core
// host that asked, and no rejection ever left unhandled (the runtime would log it as uncaught).

/** Runs an outgoing call to completion, feeding its reply (or failure) back; never leaves a rejection unhandled. */
export function send<T>(
  what: string,
  call: Promise<T>,
  onReply: (reply: T) => void = () => undefined,
  onFailure: () => void = () => undefined,
): void {
  call
    .then(onReply, (err: unknown) => {
      console.error(`[sluice] ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
      onFailure();
    })
    .catch((err: unknown) => console.error(`[sluice] handling the reply to ${what} failed: ${String(err)}`));
}
