// Covers the webhook's TLS material (src/http/certificates.ts): the generated development CA signs a
// serving certificate for 127.0.0.1 and the Service's DNS names that a TLS client verifying against
// the CA accepts; certificates kept in a directory are reused while valid and regenerated when they
// miss a requested name; certificate/key files given by options are checked at start-up, with the
// file named in the error.
// Real components: node:crypto X.509 checks and a node:https server and client on 127.0.0.1; files in
// a temporary directory. Nothing is stubbed.
import test from "ava";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError } from "../../src/errors.js";
import { devCertificates, generateDevCertificates, loadCertificateFiles, serviceDnsNames } from "../../src/http/certificates.js";

const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-tls-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test("the development CA signs a serving certificate for 127.0.0.1 and the Service's DNS names", async (t) => {
  const material = await generateDevCertificates();
  const ca = new X509Certificate(material.ca);
  const cert = new X509Certificate(material.cert);
  t.true(ca.ca);
  t.false(cert.ca);
  t.true(cert.verify(ca.publicKey));
  t.is(cert.checkIP("127.0.0.1"), "127.0.0.1");
  for (const name of serviceDnsNames()) t.is(cert.checkHost(name, { subject: "never" }), name);
  t.deepEqual(serviceDnsNames(), [
    "kube-policy-admission",
    "kube-policy-admission.kube-policy",
    "kube-policy-admission.kube-policy.svc",
    "kube-policy-admission.kube-policy.svc.cluster.local",
  ]);
  t.true(cert.keyUsage?.includes("1.3.6.1.5.5.7.3.1"), "extended key usage serverAuth");

  // A TLS client that trusts only the CA connects to 127.0.0.1 (what the API server does with caBundle).
  const server = https.createServer({ cert: material.cert, key: material.key }, (_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: "127.0.0.1", port, ca: material.ca, path: "/" }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += String(c)));
        res.on("end", () => resolve(text));
      }).on("error", reject);
    });
    t.is(body, "ok");
    // And one that trusts another CA does not.
    const other = await generateDevCertificates();
    await t.throwsAsync(
      new Promise((resolve, reject) => https.get({ host: "127.0.0.1", port, ca: other.ca, path: "/" }, resolve).on("error", reject)),
      { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
    );
  } finally {
    server.close();
  }
});

test("certificates kept in a directory are reused while valid, regenerated when a name is missing", async (t) => {
  const keep = path.join(dir, "kept");
  const first = await devCertificates(keep);
  t.true(first.generated);
  t.is(statSync(path.join(keep, "tls.key")).mode & 0o777, 0o600);
  const second = await devCertificates(keep);
  t.false(second.generated);
  t.is(second.ca, first.ca);
  const renamed = await devCertificates(keep, { dnsNames: ["webhook.example.internal"], ipAddresses: ["127.0.0.1"] });
  t.true(renamed.generated);
  t.not(renamed.ca, first.ca);
  t.is(new X509Certificate(renamed.cert).checkHost("webhook.example.internal", { subject: "never" }), "webhook.example.internal");
});

test("certificate files given by options: checked at start-up, the file named in every error", async (t) => {
  const a = await generateDevCertificates();
  const b = await generateDevCertificates();
  const cert = path.join(dir, "a.crt");
  const key = path.join(dir, "a.key");
  const otherKey = path.join(dir, "b.key");
  writeFileSync(cert, a.cert);
  writeFileSync(key, a.key);
  writeFileSync(otherKey, b.key);
  t.is((await loadCertificateFiles(cert, key)).cert, a.cert);

  const mismatch = await t.throwsAsync(loadCertificateFiles(cert, otherKey), { instanceOf: ConfigError });
  t.is(mismatch?.message, `${otherKey} is not the private key of the certificate in ${cert}`);
  const missing = await t.throwsAsync(loadCertificateFiles(path.join(dir, "nope.crt"), key), { instanceOf: ConfigError });
  t.regex(missing?.message ?? "", /^cannot read the admission certificate .*nope\.crt: ENOENT/);
  const notPem = await t.throwsAsync(loadCertificateFiles(key, key), { instanceOf: ConfigError });
  t.regex(notPem?.message ?? "", /a\.key is not a PEM certificate/);
});
