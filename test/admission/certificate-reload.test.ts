// Covers certificate rotation of the admission webhook without a restart (src/http/certificates.ts
// FileReloader, startAdmissionServer's tlsFiles): the server starts from certificate/key files laid out
// as the kubelet lays out a Secret volume (tls.crt -> ..data/tls.crt, ..data -> a timestamped
// directory), the pair is replaced the way the kubelet replaces it (a new directory, then an atomic
// rename of the ..data symlink), and a new TLS connection gets the new certificate (fingerprints
// compared) while the same server keeps answering reviews; the reload is logged with subject, notAfter
// and fingerprint, never the key; the expiry gauge on /metrics follows the certificate served. A
// mismatched pair, a half-written certificate and an unreadable file are refused with a log line naming
// the files and the problem, and the old certificate keeps serving until a good pair arrives.
// Real components: node:https server and node:tls clients on 127.0.0.1, files and symlinks in a
// temporary directory, the committed policy.wasm, the Prometheus text rendering of src/http/metrics.ts.
// Stand-in: the decision logger is an array, so the test can read the log lines.
import test from "ava";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { ADMISSION_PATH, AdmissionMetrics, startAdmissionServer, type AdmissionResponseReview, type DecisionLogger } from "../../src/http/admission.js";
import { generateDevCertificates, loadCertificateFiles, type TlsMaterial } from "../../src/http/certificates.js";
import { renderMetrics } from "../../src/http/metrics.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { admissionReview, httpsRequest, violatingDeployment, type Json } from "./helpers.js";

const root = mkdtempSync(path.join(tmpdir(), "kube-policy-rotate-"));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

/** A directory laid out as the kubelet mounts a Secret: files are symlinks through ..data. */
class SecretVolume {
  private generation = 0;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  get cert(): string {
    return path.join(this.dir, "tls.crt");
  }
  get key(): string {
    return path.join(this.dir, "tls.key");
  }
  /** Writes a new timestamped directory and swaps ..data to it atomically (what AtomicWriter does). */
  update(files: { "tls.crt": string; "tls.key": string }): void {
    const target = `..2025_01_01_00_00_0${this.generation++}.${process.pid}`;
    mkdirSync(path.join(this.dir, target));
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(this.dir, target, name), content, { mode: 0o600 });
    symlinkSync(target, path.join(this.dir, "..data_tmp"));
    renameSync(path.join(this.dir, "..data_tmp"), path.join(this.dir, "..data"));
    for (const name of Object.keys(files)) {
      try {
        symlinkSync(path.join("..data", name), path.join(this.dir, name));
      } catch {
        // already a symlink through ..data: the rename above switched it
      }
    }
  }
}

/** The certificate a brand-new TLS connection is served (no session reuse). */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on("error", reject);
  });
}

const fingerprint = (material: TlsMaterial) => new X509Certificate(material.cert).fingerprint256;

async function harness(t: { teardown(fn: () => unknown): void }, name: string, reloadIntervalMs: number) {
  const volume = new SecretVolume(path.join(root, name));
  const first = await generateDevCertificates({ days: 30 });
  volume.update({ "tls.crt": first.cert, "tls.key": first.key });
  const lines: { level: string; obj: Json; msg?: string }[] = [];
  const logger: DecisionLogger = {
    info: (obj, msg) => lines.push({ level: "info", obj: obj as Json, msg }),
    warn: (obj, msg) => lines.push({ level: "warn", obj: obj as Json, msg }),
    error: (obj, msg) => lines.push({ level: "error", obj: obj as Json, msg }),
  };
  const runtime = new Runtime({ global: { enforcement: "strict" } }, await PolicyBundle.load(), await MemorySource.demo(), {
    databasePath: path.join(root, `${name}.db`),
  });
  const metrics = new AdmissionMetrics();
  const server = await startAdmissionServer(runtime, {
    port: 0,
    tls: await loadCertificateFiles(volume.cert, volume.key),
    tlsFiles: { cert: volume.cert, key: volume.key },
    reloadIntervalMs,
    logger,
    metrics,
  });
  t.teardown(() => server.close());
  const review = async (ca: string, uid: string) => {
    const res = await httpsRequest(`${server.url}${ADMISSION_PATH}`, { method: "POST", body: admissionReview(violatingDeployment("rotate"), { uid }), ca });
    return { status: res.status, uid: (res.json as AdmissionResponseReview | undefined)?.response?.uid };
  };
  const expiryGauge = () => {
    const match = /^kube_policy_admission_certificate_expiry_timestamp_seconds\{port="(\d+)",subject="[^"]*"\} (\S+)$/m.exec(renderMetrics(runtime, metrics.snapshot()));
    return match ? { port: Number(match[1]), value: Number(match[2]) } : undefined;
  };
  return { volume, first, lines, server, review, expiryGauge };
}

test("a Secret volume update (symlink swap) is picked up by the polling: new connections get the new certificate, no restart", async (t) => {
  const h = await harness(t, "swap", 100);
  t.is(await servedFingerprint(h.server.port, h.first.ca), fingerprint(h.first));
  t.deepEqual(await h.review(h.first.ca, "before"), { status: 200, uid: "before" });
  t.deepEqual(h.expiryGauge(), { port: h.server.port, value: Date.parse(new X509Certificate(h.first.cert).validTo) / 1000 });

  const second = await generateDevCertificates({ days: 90 });
  h.volume.update({ "tls.crt": second.cert, "tls.key": second.key });
  const deadline = Date.now() + 10_000;
  while (!h.lines.some((l) => l.msg === "admission: serving certificate reloaded")) {
    if (Date.now() > deadline) return t.fail(`no reload logged within 10 s: ${JSON.stringify(h.lines)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  t.is(await servedFingerprint(h.server.port, second.ca), fingerprint(second), "a new connection sees the new certificate");
  t.not(fingerprint(second), fingerprint(h.first));
  // The same server (same port, same process) answers reviews over the new certificate.
  t.deepEqual(await h.review(second.ca, "after"), { status: 200, uid: "after" });
  const info = h.server.certificate();
  t.is(info.fingerprint256, fingerprint(second));
  t.deepEqual(h.expiryGauge(), { port: h.server.port, value: Date.parse(new X509Certificate(second.cert).validTo) / 1000 });

  const reloaded = h.lines.find((l) => l.msg === "admission: serving certificate reloaded")!;
  const certificate = reloaded.obj.certificate as { subject: string; notAfter: string; fingerprint256: string };
  t.is(certificate.fingerprint256, fingerprint(second));
  t.is(certificate.notAfter, new Date(new X509Certificate(second.cert).validTo).toISOString());
  t.regex(certificate.subject, /CN=localhost/);
  t.is((reloaded.obj.previous as { fingerprint256: string }).fingerprint256, fingerprint(h.first));
  t.false(JSON.stringify(h.lines).includes("PRIVATE KEY"), "no key material in any log line");
  t.is(h.lines.filter((l) => l.msg === "admission: serving certificate reloaded").length, 1, "unchanged files are not reloaded again");
});

test("a mismatched, half-written or missing pair is refused with the files and the problem logged; the old certificate keeps serving", async (t) => {
  const h = await harness(t, "broken", 0);
  const good = fingerprint(h.first);
  const other = await generateDevCertificates();

  // A certificate with somebody else's key (cert-manager half-way through, a wrong Secret).
  h.volume.update({ "tls.crt": other.cert, "tls.key": h.first.key });
  t.is(await h.server.reloadCertificates(), "refused");
  let warning = h.lines.filter((l) => l.level === "warn").at(-1);
  t.is(warning?.obj.problem, `${h.volume.key} is not the private key of the certificate in ${h.volume.cert}`);
  t.deepEqual(warning?.obj.files, { cert: h.volume.cert, key: h.volume.key });
  t.regex(warning?.msg ?? "", /refused .*the previous ones keep serving/);
  t.is(await servedFingerprint(h.server.port, h.first.ca), good);
  t.deepEqual(await h.review(h.first.ca, "still"), { status: 200, uid: "still" });
  // Looked at again unchanged: refused without another log line.
  const warnings = h.lines.filter((l) => l.level === "warn").length;
  t.is(await h.server.reloadCertificates(), "refused");
  t.is(h.lines.filter((l) => l.level === "warn").length, warnings);

  // A certificate cut short mid-write.
  h.volume.update({ "tls.crt": other.cert.slice(0, 200), "tls.key": other.key });
  t.is(await h.server.reloadCertificates(), "refused");
  warning = h.lines.filter((l) => l.level === "warn").at(-1);
  t.regex(String(warning?.obj.problem), new RegExp(`^${h.volume.cert.replace(/[.]/g, "\\.")} is not a PEM certificate`));
  t.is(await servedFingerprint(h.server.port, h.first.ca), good);

  // The key file gone (a broken mount).
  rmSync(h.volume.key);
  t.is(await h.server.reloadCertificates(), "refused");
  t.is(h.lines.filter((l) => l.level === "warn").at(-1)?.obj.problem, `cannot read ${h.volume.key}: ENOENT`);
  t.is(await servedFingerprint(h.server.port, h.first.ca), good);
  t.is(h.server.certificate().fingerprint256, good);
  t.false(h.lines.some((l) => l.msg === "admission: serving certificate reloaded"));

  // A good pair afterwards is taken.
  symlinkSync(path.join("..data", "tls.key"), h.volume.key);
  h.volume.update({ "tls.crt": other.cert, "tls.key": other.key });
  t.is(await h.server.reloadCertificates(), "reloaded");
  t.is(await servedFingerprint(h.server.port, other.ca), fingerprint(other));
});
