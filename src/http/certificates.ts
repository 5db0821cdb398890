// TLS material for the admission webhook: the API server only calls webhooks over HTTPS and checks
// the serving certificate against the caBundle of the ValidatingWebhookConfiguration. For development
// a CA and a serving certificate are generated (and kept in a directory, so the caBundle registered
// with the cluster survives restarts); in production cert-manager or an operator hands us files.
import { X509Certificate, createPrivateKey, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { generate } from "selfsigned";
import { ConfigError } from "../errors.js";

export interface TlsMaterial {
  /** PEM of the serving certificate (may be followed by its chain). */
  cert: string;
  /** PEM of its private key. */
  key: string;
  /** PEM of the CA that signed it, when we know it (generated certificates): what goes into caBundle. */
  ca?: string;
}

/** Name and namespace of the Service in config/deploy/admission-webhook.yaml. */
export const ADMISSION_SERVICE = { name: "kube-policy-admission", namespace: "kube-policy" };

/** The DNS names the API server may use for a Service: it dials <name>.<namespace>.svc. */
export function serviceDnsNames(name = ADMISSION_SERVICE.name, namespace = ADMISSION_SERVICE.namespace): string[] {
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

export interface GenerateOptions {
  /** DNS subject alternative names; default localhost and the Service's names. */
  dnsNames?: string[];
  /** IP subject alternative names; default 127.0.0.1 and ::1. */
  ipAddresses?: string[];
  /** Validity of both certificates, in days; default 365. */
  days?: number;
}

/** A fresh development CA and a serving certificate it signed (P-256 keys: fast to make and to handshake). */
export async function generateDevCertificates(options: GenerateOptions = {}): Promise<Required<TlsMaterial>> {
  const dnsNames = options.dnsNames ?? ["localhost", ...serviceDnsNames()];
  const ipAddresses = options.ipAddresses ?? ["127.0.0.1", "::1"];
  const notBeforeDate = new Date(Date.now() - 60_000); // tolerate a little clock skew between us and the API server
  const notAfterDate = new Date(notBeforeDate.getTime() + (options.days ?? 365) * 86_400_000);
  // A unique CA name: TLS stacks find an issuer by name, and two development CAs must not be confused.
  const ca = await generate([{ name: "commonName", value: `kube-policy admission development CA ${randomBytes(4).toString("hex")}` }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const serving = await generate([{ name: "commonName", value: dnsNames[0] ?? "kube-policy-admission" }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [...dnsNames.map((value) => ({ type: 2 as const, value })), ...ipAddresses.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { cert: serving.cert, key: serving.private, ca: ca.cert };
}

/**
 * Checks that a certificate and key belong together and that the certificate is valid now, so a
 * wrong file fails at start-up with its name rather than as a TLS handshake error in the API server's log.
 */
export function checkTlsMaterial(material: TlsMaterial, where: { cert: string; key: string }): X509Certificate {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(material.cert);
  } catch (error) {
    throw new ConfigError(`${where.cert} is not a PEM certificate: ${(error as Error).message}`, { cause: error });
  }
  let key;
  try {
    key = createPrivateKey(material.key);
  } catch (error) {
    throw new ConfigError(`${where.key} is not a PEM private key: ${(error as Error).message}`, { cause: error });
  }
  if (!certificate.checkPrivateKey(key)) throw new ConfigError(`${where.key} is not the private key of the certificate in ${where.cert}`);
  const now = Date.now();
  if (new Date(certificate.validTo).getTime() < now) throw new ConfigError(`the certificate in ${where.cert} expired on ${certificate.validTo}`);
  if (new Date(certificate.validFrom).getTime() > now) throw new ConfigError(`the certificate in ${where.cert} is not valid before ${certificate.validFrom}`);
  return certificate;
}

/** Certificate and key files given by options (cert-manager, a Secret mounted into the pod). */
export async function loadCertificateFiles(certFile: string, keyFile: string): Promise<TlsMaterial> {
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      throw new ConfigError(`cannot read the admission ${what} ${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  const material = { cert: await read(certFile, "certificate"), key: await read(keyFile, "private key") };
  checkTlsMaterial(material, { cert: certFile, key: keyFile });
  return material;
}

const FILES = { ca: "ca.crt", cert: "tls.crt", key: "tls.key" } as const;
/** Generated certificates are replaced this long before they expire. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * Development certificates kept in `dir` (ca.crt, tls.crt, tls.key): reused while they are valid for
 * another 30 days and name every requested host, generated and written otherwise.
 */
export async function devCertificates(dir: string, options: GenerateOptions = {}): Promise<Required<TlsMaterial> & { generated: boolean; dir: string }> {
  const file = (name: string) => path.join(dir, name);
  try {
    const [ca, cert, key] = await Promise.all([readFile(file(FILES.ca), "utf8"), readFile(file(FILES.cert), "utf8"), readFile(file(FILES.key), "utf8")]);
    const certificate = checkTlsMaterial({ cert, key }, { cert: file(FILES.cert), key: file(FILES.key) });
    const namesAll =
      (options.dnsNames ?? []).every((name) => certificate.checkHost(name, { subject: "never", wildcards: false }) !== undefined) &&
      (options.ipAddresses ?? ["127.0.0.1"]).every((ip) => certificate.checkIP(ip) !== undefined);
    const fresh = new Date(certificate.validTo).getTime() - Date.now() > RENEW_BEFORE_MS;
    if (fresh && namesAll && certificate.verify(new X509Certificate(ca).publicKey)) {
      return { ca, cert, key, generated: false, dir };
    }
  } catch {
    // missing, unreadable or not matching: make new ones below
  }
  const material = await generateDevCertificates(options);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Written then renamed, so a reader never sees half a key.
  for (const [name, content, mode] of [
    [FILES.key, material.key, 0o600],
    [FILES.cert, material.cert, 0o644],
    [FILES.ca, material.ca, 0o644],
  ] as const) {
    await writeFile(`${file(name)}.tmp`, content, { mode });
    await rename(`${file(name)}.tmp`, file(name));
  }
  return { ...material, generated: true, dir };
}

// ---------------------------------------------------------------------------------------------
// Rotation: cert-manager renews the Secret, the kubelet swaps the mounted files (an atomic rename of
// the ..data symlink, which fs.watch on the file itself never sees), and the server must serve the new
// pair without a restart. Files are read again on an interval and compared by content; a changed set
// is checked before it is swapped in, and a bad or half-written one is refused with a log line while
// the old material keeps serving.

/** What a log line and the metrics may say about a certificate (never anything of the key). */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** ISO 8601. */
  notAfter: string;
  /** SHA-256 fingerprint, colon-separated hex as openssl prints it. */
  fingerprint256: string;
  serialNumber: string;
}

export function certificateInfo(certificate: X509Certificate): CertificateInfo {
  return {
    subject: certificate.subject.replace(/\n/g, ", "),
    issuer: certificate.issuer.replace(/\n/g, ", "),
    notAfter: new Date(certificate.validTo).toISOString(),
    fingerprint256: certificate.fingerprint256,
    serialNumber: certificate.serialNumber,
  };
}

/**
 * The certificates of a PEM CA bundle (one or more CERTIFICATE blocks), each parsed, or a ConfigError
 * naming `where` and what is wrong. Expired CAs are refused: no client certificate could chain to them.
 */
export function parseCaBundle(pem: string, where: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${where} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch (error) {
      throw new ConfigError(`certificate ${i + 1} in ${where} cannot be parsed: ${(error as Error).message}`, { cause: error });
    }
    if (new Date(certificate.validTo).getTime() < Date.now()) {
      throw new ConfigError(`certificate ${i + 1} in ${where} (${certificate.subject.replace(/\n/g, ", ")}) expired on ${certificate.validTo}`);
    }
    return certificate;
  });
}

/** A client CA bundle file, read and checked. */
export async function loadCaBundleFile(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read the admission client CA bundle ${file}: ${(error as Error).message}`, { cause: error });
  }
  parseCaBundle(pem, file);
  return pem;
}

/** How often rotated files are looked at by default: kubelet's Secret volume sync is about a minute anyway. */
export const DEFAULT_RELOAD_INTERVAL_MS = 15_000;

export interface ReloadLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export type ReloadOutcome = "unchanged" | "reloaded" | "refused";

/**
 * Polls `files` every `intervalMs` (unref'd: it never keeps the process alive). When their contents
 * differ from what is served, `apply` gets the new contents: it checks them and swaps them in, or
 * throws to refuse them (the error's message is logged with the files; what is served stays). A
 * refused set is not tried again until a file changes once more, so a bad Secret logs once, not
 * every interval.
 */
export class FileReloader<K extends string> {
  private applied: string;
  private refused: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReloadOutcome> | undefined;

  constructor(
    private readonly files: Record<K, string>,
    current: Record<K, string>,
    private readonly apply: (contents: Record<K, string>) => void,
    private readonly log: ReloadLogger,
    readonly what: string,
  ) {
    this.applied = FileReloader.key(current);
  }

  private static key(contents: Record<string, string>): string {
    return JSON.stringify(Object.entries(contents).sort(([a], [b]) => a.localeCompare(b)));
  }

  start(intervalMs = DEFAULT_RELOAD_INTERVAL_MS): this {
    if (!(intervalMs > 0)) return this;
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
    return this;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at the files now (what the interval does); concurrent calls share one look. */
  check(): Promise<ReloadOutcome> {
    this.running ??= this.checkOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async checkOnce(): Promise<ReloadOutcome> {
    const contents = {} as Record<K, string>;
    for (const [name, file] of Object.entries(this.files) as [K, string][]) {
      try {
        contents[name] = await readFile(file, "utf8");
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        return this.refuse(`unreadable ${file} ${reason}`, `cannot read ${file}: ${reason}`);
      }
    }
    const key = FileReloader.key(contents);
    if (key === this.applied) return "unchanged";
    if (key === this.refused) return "refused";
    try {
      this.apply(contents);
    } catch (error) {
      return this.refuse(key, (error as Error).message);
    }
    this.applied = key;
    this.refused = undefined;
    return "reloaded";
  }

  private refuse(key: string, problem: string): ReloadOutcome {
    if (key !== this.refused) {
      this.log.warn({ files: this.files, problem }, `${this.what}: the new files were refused (${problem}); the previous ones keep serving`);
    }
    this.refused = key;
    return "refused";
  }
}
