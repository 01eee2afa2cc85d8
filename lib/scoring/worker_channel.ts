/**
 * One request at a time to a module worker: the worker's next reply settles it, a reply with
 * `cmd: "error"` or a worker error rejects it with the worker's message. Shared by the
 * data-parallel scorer's worker and the CHES worker.
 *
 * @module
 */

/** What every lab worker replies; `cmd: "error"` carries the worker's message and stack. */
export interface ChannelReply {
  cmd: string;
  message?: string;
  stack?: string;
}

/** The request side of a worker: {@link workerChannel}. */
export interface WorkerChannel<R> {
  /** Post `msg` and wait for the reply; throws if a request is already in flight. */
  request(msg: Record<string, unknown>): Promise<R>;
  /** Reject the request in flight, if any, with `reason` (the worker was stopped). */
  abandon(reason: string): void;
}

/**
 * Take over `worker`'s message and error handlers; `label` starts every error message.
 *
 * @example
 * ```ts
 * import { workerChannel } from "./worker_channel.ts";
 * const src = `self.onmessage = (e) => self.postMessage({ cmd: "echo", n: e.data.n + 1 });`;
 * const url = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
 * const worker = new Worker(url, { type: "module" });
 * const reply = await workerChannel<{ cmd: string; n: number }>(worker, "echo").request({ n: 1 });
 * worker.terminate();
 * if (reply.n !== 2) throw new Error("the worker's reply did not come back");
 * ```
 */
export function workerChannel<R extends ChannelReply>(
  worker: Worker,
  label: string,
): WorkerChannel<R> {
  let pending: { resolve: (r: R) => void; reject: (e: Error) => void } | undefined;
  const take = () => {
    const p = pending;
    pending = undefined;
    return p;
  };
  worker.onmessage = (e: MessageEvent<R>) => {
    const p = take();
    if (!p) return;
    if (e.data.cmd === "error") {
      p.reject(new Error(`${label}: ${e.data.message}\n${e.data.stack ?? ""}`));
    } else p.resolve(e.data);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    take()?.reject(new Error(`${label}: ${e.message}`));
  };
  return {
    request(msg) {
      if (pending) throw new Error(`${label}: a request is already in flight`);
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage(msg);
      });
    },
    abandon: (reason) => take()?.reject(new Error(reason)),
  };
}
