// Benchmark: admission review latency under load, on loopback. The webhook server runs in this process
// with a ClusterSource on a real kube-apiserver (the test harness) for namespace facts, its decision log
// written by pino (to /dev/null); a load generator in its own process POSTs AdmissionReviews over
// HTTPS keep-alive on an open-loop schedule: request i is due at start + i/rate and its latency is
// counted from that moment, so a slow response delays nobody's clock (no coordinated omission).
// The generator is vegeta (pinned, built by scripts/install-vegeta.sh): Go's net/http, the client the
// API server calls webhooks with; --node-client uses a Node https generator instead.
// Scenarios: a typical hardened Deployment in a strict namespace (the target: p99 < 10 ms at 200/s,
// --runs times), a violating one in an advisory namespace (25 warnings), and a violating one refused
// in a strict namespace.
//   npx tsx scripts/bench-admission.ts [--rate 200] [--seconds 20] [--runs 3] [--node-client] [--no-write]
import { writeBenchmarkSection } from "./lib/benchmarks-md.js";
import { execFileSync, spawn } from "node:child_process";
import https from "node:https";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { pino } from "pino";

const args = process.argv.slice(2);
// The pinned vegeta, built into .tools/bin the first time (scripts/install-vegeta.sh).
const vegeta = () => execFileSync("bash", [fileURLToPath(new URL("./install-vegeta.sh", import.meta.url))], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);

interface GeneratorResult {
  sent: number;
  errors: number;
  statuses: Record<string, number>;
  /** Latencies in ms, from each request's scheduled time to the end of its response. */
  latencies: number[];
  /** From sending each request to the end of its response (without the generator's own lateness). */
  responseTimes: number[];
  /** How late each request was sent against its schedule. */
  sendLags: number[];
  /** How late the generator itself sent requests (a loaded generator would hide latency). */
  maxSendLagMs: number;
  seconds: number;
}

// ---------------------------------------------------------------------------------------------
// The load generator (child process): open loop, keep-alive connections like the API server's pool.

async function generator(): Promise<void> {
  const input = JSON.parse(await new Promise<string>((resolve) => {
    let text = "";
    process.stdin.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve(text));
  })) as { url: string; ca: string; rate: number; seconds: number; warmupSeconds: number; body: string };
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: input.ca });
  const body = Buffer.from(input.body);
  const total = Math.round(input.rate * (input.seconds + input.warmupSeconds));
  const warmup = Math.round(input.rate * input.warmupSeconds);
  const result: GeneratorResult = { sent: 0, errors: 0, statuses: {}, latencies: [], responseTimes: [], sendLags: [], maxSendLagMs: 0, seconds: input.seconds };
  const start = performance.now() + 50;
  let next = 0;
  let done = 0;
  await new Promise<void>((finish) => {
    const send = (i: number) => {
      const due = start + (i * 1000) / input.rate;
      const sent = performance.now();
      result.maxSendLagMs = Math.max(result.maxSendLagMs, sent - due);
      const req = https.request(input.url, { method: "POST", agent, headers: { "Content-Type": "application/json", "Content-Length": body.length } }, (res) => {
        res.resume();
        res.on("end", () => {
          if (i >= warmup) {
            const end = performance.now();
            result.latencies.push(end - due);
            result.responseTimes.push(end - sent);
            result.sendLags.push(sent - due);
            result.statuses[String(res.statusCode)] = (result.statuses[String(res.statusCode)] ?? 0) + 1;
          }
          if (++done === total) finish();
        });
      });
      req.on("error", () => {
        if (i >= warmup) result.errors++;
        if (++done === total) finish();
      });
      req.end(body);
      result.sent++;
    };
    // Wake often and send everything that is due: the schedule, not the responses, sets the pace.
    const tick = () => {
      const now = performance.now();
      while (next < total && start + (next * 1000) / input.rate <= now) send(next++);
      if (next < total) setTimeout(tick, 1);
    };
    setTimeout(tick, 0);
  });
  agent.destroy();
  process.stdout.write(JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted.at(-1) ?? NaN };
};

/**
 * The same open-loop load from vegeta (Go's net/http, the client the API server itself calls webhooks
 * with): results per request, latency counted from each request's scheduled time as above.
 */
async function runVegeta(input: { url: string; ca: string; rate: number; seconds: number; warmupSeconds: number; body: string }): Promise<GeneratorResult> {
  const VEGETA = vegeta();
  const dir = await mkdtemp(path.join(os.tmpdir(), "bench-admission-"));
  try {
    await writeFile(path.join(dir, "ca.pem"), input.ca);
    const target = { method: "POST", url: input.url, body: Buffer.from(input.body).toString("base64"), header: { "Content-Type": ["application/json"] } };
    await writeFile(path.join(dir, "targets.json"), JSON.stringify(target) + "\n");
    const total = input.seconds + input.warmupSeconds;
    const attack = spawn(VEGETA, ["attack", "-format=json", `-targets=${path.join(dir, "targets.json")}`, `-rate=${input.rate}/1s`, `-duration=${total}s`, `-root-certs=${path.join(dir, "ca.pem")}`, "-http2=false", "-max-body=0", `-output=${path.join(dir, "results.bin")}`], { stdio: ["ignore", "inherit", "inherit"] });
    await new Promise<void>((resolve, reject) => attack.on("error", reject).on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`vegeta attack exited ${code}`)))));
    const encoded = await new Promise<string>((resolve, reject) => {
      const encode = spawn(VEGETA, ["encode", "--to", "json", path.join(dir, "results.bin")], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      encode.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
      encode.on("error", reject).on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`vegeta encode exited ${code}`))));
    });
    const hits = encoded.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { seq: number; code: number; timestamp: string; latency: number; error: string });
    hits.sort((a, b) => a.seq - b.seq);
    // RFC 3339 with nanoseconds, in ms: Date keeps the milliseconds, the digits after them are added.
    const ms = (t: string) => Date.parse(t) + (Number((/\.(\d+)/.exec(t)?.[1] ?? "").padEnd(9, "0").slice(3, 9)) / 1e6);
    const start = ms(hits[0]!.timestamp);
    const warmup = input.rate * input.warmupSeconds;
    const result: GeneratorResult = { sent: hits.length, errors: 0, statuses: {}, latencies: [], responseTimes: [], sendLags: [], maxSendLagMs: 0, seconds: input.seconds };
    for (const hit of hits) {
      const due = start + (hit.seq * 1000) / input.rate;
      const lag = Math.max(0, ms(hit.timestamp) - due);
      result.maxSendLagMs = Math.max(result.maxSendLagMs, lag);
      if (hit.seq < warmup) continue;
      if (hit.error) result.errors++;
      result.statuses[String(hit.code)] = (result.statuses[String(hit.code)] ?? 0) + 1;
      result.responseTimes.push(hit.latency / 1e6);
      result.sendLags.push(lag);
      result.latencies.push(lag + hit.latency / 1e6);
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runGenerator(input: object): Promise<GeneratorResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--generator"], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as GeneratorResult) : reject(new Error(`load generator exited ${code}`))));
    child.stdin.end(JSON.stringify(input));
  });
}

async function bench(): Promise<void> {
  const rate = option("--rate", 200);
  const seconds = option("--seconds", 20);
  const runs = option("--runs", 3);
  const write = !args.includes("--no-write");
  const { startCluster } = await import("../test/harness/cluster.js");
  const { ClusterSource } = await import("../src/kube/cluster-source.js");
  const { KubeClient } = await import("../src/kube/client.js");
  const { PolicyBundle } = await import("../src/policy/bundle.js");
  const { Runtime } = await import("../src/runtime.js");
  const { generateDevCertificates } = await import("../src/http/certificates.js");
  const { ADMISSION_PATH, AdmissionMetrics, ENFORCEMENT_LABEL, startAdmissionServer } = await import("../src/http/admission.js");
  const { admissionReview, compliantDeployment, compliantFacts, violatingDeployment } = await import("../test/admission/helpers.js");

  const cluster = await startCluster({ log: (m) => process.stderr.write(`cluster: ${m}\n`) });
  try {
    const admin = KubeClient.load({ kind: "file", path: cluster.adminKubeconfig });
    const namespaces = { strict: "bench-strict", advisory: "bench-advisory" };
    for (const [mode, name] of Object.entries(namespaces)) {
      const labels = mode === "advisory" ? { [ENFORCEMENT_LABEL]: "advisory" } : {};
      await admin.request("/api/v1/namespaces", { method: "POST", body: { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } }, what: { verb: "create", resource: "namespaces" } });
      for (const fact of compliantFacts(name)) await admin.request(fact.path, { method: "POST", body: fact.body, what: { verb: "create", resource: fact.path } });
    }

    const bundle = await PolicyBundle.load();
    const source = ClusterSource.connect({ kind: "file", path: cluster.adminKubeconfig });
    const runtime = new Runtime({ global: { enforcement: "strict" } }, bundle, source);
    const tls = await generateDevCertificates();
    // What the /metrics histogram observes (arrival to answer), kept whole here for percentiles.
    class TimedMetrics extends AdmissionMetrics {
      readonly times: number[] = [];
      override observe(seconds: number): void {
        super.observe(seconds);
        this.times.push(seconds * 1000);
      }
    }
    const metrics = new TimedMetrics();
    const reviewTimes: number[] = [];
    // The real decision log line per review, written where it costs what a log file costs.
    const logger = pino({ name: "kube-policy", level: "info" }, pino.destination({ dest: "/dev/null", sync: true }));
    const server = await startAdmissionServer(runtime, { port: 0, tls, metrics, logger, onDecision: (d) => void reviewTimes.push(d.durationMs) });
    const url = `${server.url}${ADMISSION_PATH}`;
    const client = args.includes("--node-client") ? "node" : "vegeta";
    const generate = client === "node" ? runGenerator : runVegeta;

    const typical = { name: "typical hardened Deployment, strict namespace (allowed)", body: admissionReview(compliantDeployment(namespaces.strict)), expect: "allowed", seconds };
    const scenarios = [
      ...Array.from({ length: runs }, (_, i) => ({ ...typical, name: runs > 1 ? `${typical.name}, run ${i + 1}` : typical.name })),
      { name: "violating Deployment, advisory namespace (allowed, 25 warnings)", body: admissionReview(violatingDeployment(namespaces.advisory)), expect: "warned", seconds: Math.max(5, seconds / 2) },
      { name: "violating Deployment, strict namespace (denied)", body: admissionReview(violatingDeployment(namespaces.strict)), expect: "denied", seconds: Math.max(5, seconds / 2) },
    ];
    const warmupSeconds = 2;
    const loadBefore = os.loadavg()[0]!;
    type Summary = ReturnType<typeof summary>;
    const rows: { name: string; client: Summary; webhook: Summary; review: Summary; evaluate: Summary; loopMs: { p99: number; max: number }; gc: { count: number; maxMs: number }; result: GeneratorResult; apiRequests: number; apiConnections: number; decisions: Record<string, number> }[] = [];
    for (const scenario of scenarios) {
      reviewTimes.length = 0;
      metrics.times.length = 0;
      const before = metrics.snapshot().total;
      const requestsBefore = source.client.requests;
      const connectionsBefore = source.client.connections;
      // Stalls of the webhook's event loop (GC, other work in the process, waiting for a CPU).
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      const gcPauses: number[] = [];
      const gc = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) gcPauses.push(entry.duration);
      });
      gc.observe({ entryTypes: ["gc"] });
      const result = await generate({ url, ca: tls.ca, rate, seconds: scenario.seconds, warmupSeconds, body: JSON.stringify(scenario.body) });
      const after = metrics.snapshot().total;
      loop.disable();
      gc.disconnect();
      const decisions = { allowed: after.allowed - before.allowed, warned: after.warned - before.warned, denied: after.denied - before.denied, errors: after.errors - before.errors };
      // The wasm evaluation alone, for the same object: where the in-process time goes.
      const object = (scenario.body.request as { object: Record<string, unknown> }).object;
      const { context } = await source.contextFor(String((object.metadata as { namespace: string }).namespace));
      const evalTimes: number[] = [];
      for (let i = 0; i < 2_000; i++) {
        const t0 = performance.now();
        runtime.evaluator.evaluate({ object, context });
        evalTimes.push(performance.now() - t0);
      }
      const warmup = rate * warmupSeconds;
      const row = {
        name: scenario.name,
        client: summary(result.latencies),
        webhook: summary(metrics.times.slice(warmup)),
        review: summary(reviewTimes.slice(warmup)),
        evaluate: summary(evalTimes),
        loopMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
        gc: { count: gcPauses.length, maxMs: Math.max(0, ...gcPauses) },
        result,
        apiRequests: source.client.requests - requestsBefore,
        apiConnections: source.client.connections - connectionsBefore,
        decisions,
      };
      rows.push(row);
      const { result: _r, ...shown } = row;
      process.stderr.write(`${scenario.name}: ${JSON.stringify({ ...shown, response: summary(result.responseTimes), sendLag: summary(result.sendLags), statuses: result.statuses, errors: result.errors })}\n`);
      if (decisions[scenario.expect as keyof typeof decisions] !== result.latencies.length + warmup) {
        process.stderr.write(`warning: expected every review to be ${scenario.expect}: ${JSON.stringify(decisions)}\n`);
      }
    }
    await server.close();
    source.client.close();
    admin.close();
    console.log(JSON.stringify(rows.map(({ result: _r, ...row }) => row), null, 2));

    if (write) {
      const ms = (v: number) => `${v.toFixed(2)} ms`;
      const headlines = rows.slice(0, runs);
      const met = headlines.every((r) => r.client.p99 < 10);
      const section = [
        "## bench-admission: admission webhook review latency",
        "",
        `Run \`npx tsx scripts/bench-admission.ts\` (${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}).`,
        `The webhook (HTTPS, keep-alive, decision log via pino, all ${bundle.catalogue.length} rules) in one process; namespace facts from kube-apiserver v1.34.4 + etcd on 127.0.0.1 (the test harness), cached 5 s. The load comes from ${client === "vegeta" ? "vegeta v12.13.0 (Go's net/http over TLS with keep-alive, the client library the API server calls webhooks with)" : "a Node https client"} in its own process on the same ${os.cpus().length} cores, open loop at ${rate} reviews/s; latency counts from each request's scheduled time (a late send counts against us), ${warmupSeconds} s warm-up not counted.`,
        "Columns: client = the whole round trip as the caller sees it; webhook = arrival of the request to the answer handed to the socket (what `kube_policy_admission_review_duration_seconds` observes); review = reading and parsing the body, facts, evaluation, the decision; evaluate = the wasm evaluation alone; loop = the webhook's event-loop delay (GC, other work, waiting for a CPU); API = requests to the kube-apiserver for namespace facts / new connections opened.",
        "",
        "| scenario | reviews | client p50 | client p99 | client p99.9 | client max | webhook p50 | webhook p99 | review p99 | evaluate p50 | evaluate p99 | loop p99 / max | API |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ...rows.map(
          (r) =>
            `| ${r.name} | ${r.result.latencies.length} in ${r.result.seconds} s | ${ms(r.client.p50)} | **${ms(r.client.p99)}** | ${ms(r.client.p999)} | ${ms(r.client.max)} | ${ms(r.webhook.p50)} | ${ms(r.webhook.p99)} | ${ms(r.review.p99)} | ${ms(r.evaluate.p50)} | ${ms(r.evaluate.p99)} | ${ms(r.loopMs.p99)} / ${ms(r.loopMs.max)} | ${r.apiRequests} / ${r.apiConnections} |`,
        ),
        "",
        `Machine load during the run (other work on the same cores): load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after.`,
        `Target: p99 < 10 ms for a typical Deployment at 200 reviews/s: ${met ? "met" : "NOT met"} in ${headlines.filter((r) => r.client.p99 < 10).length} of ${runs} runs (${headlines.map((r) => ms(r.client.p99)).join(", ")}). Errors: ${rows.reduce((n, r) => n + r.result.errors, 0)}; the generator sent at most ${Math.max(...rows.map((r) => r.result.maxSendLagMs)).toFixed(1)} ms late.`,
        "",
        `Where the time goes: the webhook answers a typical review in ${ms(headlines[0]!.webhook.p50)} at the median and ${ms(headlines[0]!.webhook.p99)} at p99 (${ms(headlines[0]!.evaluate.p50)} of it the wasm evaluation); the rest of the round trip is TLS and HTTP on the client's side and the two processes (plus the API server and etcd) sharing ${os.cpus().length} cores. Namespace facts are listed in the background every 2.5-5 s over kept-alive connections (the first scenario opens them, the others none).`,
        "",
        "History: before 2026-11-29's fix, the Kubernetes client made a new TLS connection (and parsed every CA certificate again) for each of the ~10 lists of a facts refresh: 10-37 ms with the webhook's event loop blocked, every few seconds, which was the whole p99 tail (8.8-11.6 ms then).",
        "",
      ].join("\n");
      await writeBenchmarkSection(section);
    }
  } finally {
    await cluster.stop();
  }
}

if (args.includes("--generator")) await generator();
else await bench();
