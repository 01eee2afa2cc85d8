/**
 * Interactive use, end to end: `scripts/jupyter.sh` (what `./lab.sh notebook` and
 * `deno task jupyter` run) starts a Jupyter server headless on a free localhost port; a short
 * notebook runs through the server's REST and websocket API on this clone's Deno kernel, and the
 * figure it shows must arrive as a plotly MIME bundle carrying the plotted values.
 */
import assert from "node:assert/strict";

const root = new URL("..", import.meta.url).pathname;
const PLOTLY = "application/vnd.plotly.v1+json";

/** The cells of the short notebook, run in order in one kernel. */
const CELLS = [
  `import * as lab from "../lib/mod.ts";\nawait lab.setupNotebook({ backend: "cpu" });`,
  `await lab.show(lab.lineFigure({ x: [1, 2, 3], y: [1, 4, 9], name: "squares" }, { title: "t" }));`,
];

interface Msg {
  channel?: string;
  header: { msg_type: string; msg_id: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Drains the server's log for as long as it runs (a closed pipe would kill Jupyter at its next
 * log line) and resolves with the token of the URL it prints.
 */
function waitForToken(log: ReadableStream<Uint8Array>, seen: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    (async () => {
      const dec = new TextDecoder();
      let found = false;
      for await (const chunk of log) {
        seen.push(dec.decode(chunk));
        const m = seen.join("").match(
          /http:\/\/(?:localhost|127\.0\.0\.1):\d+\/\?token=([0-9a-f]+)/,
        );
        if (m && !found) {
          found = true;
          resolve(m[1]!);
        }
      }
      if (!found) {
        reject(new Error(`Jupyter exited before its URL:\n${seen.join("").slice(-3000)}`));
      }
    })().catch(reject);
  });
}

function request(code: string, session: string): Msg & Record<string, unknown> {
  const msgId = crypto.randomUUID();
  return {
    channel: "shell",
    header: {
      msg_id: msgId,
      msg_type: "execute_request",
      // deno-lint-ignore no-explicit-any
      ...({ username: "test", session, version: "5.3", date: new Date().toISOString() } as any),
    },
    parent_header: {},
    metadata: {},
    content: { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false },
    buffers: [],
  };
}

/** Runs `cells` one after the other; returns every iopub output message of each cell. */
async function runCells(ws: WebSocket, cells: string[]): Promise<Msg[][]> {
  const session = crypto.randomUUID();
  const outputs: Msg[][] = [];
  for (const code of cells) {
    const req = request(code, session);
    const mine: Msg[] = [];
    await new Promise<void>((resolve, reject) => {
      // A cell is done when the shell reply and the iopub idle status have both arrived.
      let replied = false, idle = false;
      ws.onmessage = (e) => {
        const msg = JSON.parse(e.data as string) as Msg;
        if (msg.parent_header.msg_id !== req.header.msg_id) return;
        if (msg.channel === "iopub") mine.push(msg);
        if (msg.header.msg_type === "execute_reply") replied = true;
        if (msg.header.msg_type === "status" && msg.content.execution_state === "idle") idle = true;
        if (replied && idle) resolve();
      };
      ws.onerror = (e) => reject(new Error(`websocket error: ${(e as ErrorEvent).message}`));
      ws.send(JSON.stringify(req));
    });
    outputs.push(mine);
  }
  return outputs;
}

Deno.test({
  name: "./lab.sh notebook: a token-protected localhost server runs a notebook; its figure arrives",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const port = freePort();
    const server = new Deno.Command("bash", {
      args: [`${root}scripts/jupyter.sh`, "--no-browser", `--port=${port}`],
      cwd: root,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const log: string[] = [];
    try {
      const token = await waitForToken(server.stderr, log);
      const base = `http://127.0.0.1:${port}`;
      // Never an open server: without the token the API refuses.
      const open = await fetch(`${base}/api/kernelspecs`);
      await open.body?.cancel();
      assert.equal(open.status, 403, "the server answered without a token");

      const auth = { Authorization: `token ${token}`, "Content-Type": "application/json" };
      const specs = await (await fetch(`${base}/api/kernelspecs`, { headers: auth })).json();
      const argv0: string = specs.kernelspecs.deno.spec.argv[0];
      assert.equal(
        argv0,
        `${root}.tools/node_modules/.bin/deno`,
        "the kernel is not this clone's Deno",
      );

      const created = await fetch(`${base}/api/sessions`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          path: "jupyter_server_test.ipynb",
          type: "notebook",
          kernel: { name: "deno" },
        }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const sess = await created.json();
      const ws = new WebSocket(
        `ws://127.0.0.1:${port}/api/kernels/${sess.kernel.id}/channels?token=${token}`,
      );
      await new Promise((ok, fail) => {
        ws.onopen = ok;
        ws.onerror = fail;
      });
      try {
        const outputs = await runCells(ws, CELLS);
        for (const [i, msgs] of outputs.entries()) {
          const err = msgs.find((m) => m.header.msg_type === "error");
          assert.equal(err, undefined, `cell ${i}: ${JSON.stringify(err?.content)}`);
        }
        const figures = outputs[1]!.filter((m) =>
          m.header.msg_type === "display_data" &&
          PLOTLY in (m.content.data as Record<string, unknown>)
        );
        const seen = outputs[1]!.map((m) =>
          `${m.header.msg_type} ${JSON.stringify(m.content).slice(0, 300)}`
        );
        assert.equal(
          figures.length,
          1,
          `one plotly figure expected; the cell sent:\n${seen.join("\n")}`,
        );
        const fig =
          (figures[0]!.content.data as Record<string, { data: { x: number[]; y: number[] }[] }>)[
            PLOTLY
          ]!;
        assert.deepEqual(fig.data[0]!.x, [1, 2, 3]);
        assert.deepEqual(fig.data[0]!.y, [1, 4, 9]);
      } finally {
        ws.close();
        const del = await fetch(`${base}/api/sessions/${sess.id}`, {
          method: "DELETE",
          headers: auth,
        });
        await del.body?.cancel();
      }
    } finally {
      server.kill("SIGTERM");
      await server.status;
    }
  },
});
