/**
 * `lab backend`: print the backend report as JSON (`--backend NAME` forces one).
 *
 * @module
 */
import { type BackendName, formatBackendReport, initBackend } from "./backend.ts";

/** Entry point of `lab backend`. */
export async function backendCommand(args: string[]): Promise<number> {
  const i = args.indexOf("--backend");
  const backend = i >= 0 ? args[i + 1] as BackendName | "auto" | undefined : undefined;
  if (i >= 0 && !backend) throw new TypeError("--backend needs a value");
  const report = await initBackend(backend ? { backend } : {});
  console.error(formatBackendReport(report));
  console.log(JSON.stringify(report, null, 2));
  return 0;
}
