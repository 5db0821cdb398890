// KubeClient's connections: requests share kept-alive TLS connections (a new connection per request
// cost a handshake and a secure context each, and blocked the admission webhook's event loop), and a
// request that meets a connection the server closed while idle is sent again on a new one.
import test from "ava";
import https from "node:https";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { KubeClient } from "../../src/kube/client.js";
import { generateDevCertificates } from "../../src/http/certificates.js";
import { startCluster, type Cluster } from "../harness/cluster.js";

let cluster: Cluster | undefined;

test.before(async (t) => {
  t.timeout(30 * 60_000);
  cluster = await startCluster();
});

test.after.always(async () => {
  await cluster?.stop();
});

const NAMESPACES = { group: "", version: "v1", plural: "namespaces", namespaced: false };

test.serial("requests to the API server share one kept-alive TLS connection", async (t) => {
  const client = KubeClient.load({ kind: "file", path: cluster!.adminKubeconfig });
  try {
    for (let i = 0; i < 5; i++) {
      const names = (await client.list<{ metadata: { name: string } }>(NAMESPACES)).map((n) => n.metadata.name);
      t.true(names.includes("default"));
    }
    // Five requests in a row: one connection (before, every request made its own).
    t.is(client.requests, 5);
    t.is(client.connections, 1);
    // Concurrent requests open what they need, then reuse those.
    await Promise.all([1, 2, 3].map(() => client.list(NAMESPACES)));
    await Promise.all([1, 2, 3].map(() => client.list(NAMESPACES)));
    t.is(client.requests, 11);
    t.true(client.connections <= 3, `${client.connections} connections for 11 requests`);
  } finally {
    client.close();
  }
});

test.serial("another user's credentials get their own connections", async (t) => {
  const admin = KubeClient.load({ kind: "file", path: cluster!.adminKubeconfig });
  const readonly = KubeClient.load({ kind: "file", path: cluster!.readonlyKubeconfig });
  try {
    await admin.list(NAMESPACES);
    await readonly.list(NAMESPACES);
    // The read-only user still may not create: its requests did not ride on the admin's connection.
    const error = await t.throwsAsync(
      readonly.request("/api/v1/namespaces", { method: "POST", body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "kept-alive" } }, what: { verb: "create", resource: "namespaces" } }),
    );
    t.regex(error!.message, /forbidden: cannot create namespaces/);
    t.is(readonly.connections, 1);
  } finally {
    admin.close();
    readonly.close();
  }
});

test.serial("a request on a connection the server closed while idle is sent again on a new one", async (t) => {
  const tls = await generateDevCertificates({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  let connections = 0;
  let received = 0;
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    received++;
    // The second request on the first connection meets a server that already closed it.
    if (received === 2) {
      req.socket.destroy();
      return;
    }
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ kind: "NamespaceList", items: [{ metadata: { name: `n${received}` } }], metadata: {} }));
  });
  server.keepAliveTimeout = 60_000;
  server.on("secureConnection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const dir = await mkdtemp(path.join(os.tmpdir(), "kube-client-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  const port = (server.address() as AddressInfo).port;
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "local", cluster: { server: `https://127.0.0.1:${port}`, "certificate-authority-data": Buffer.from(tls.ca).toString("base64") } }],
      users: [{ name: "u", user: { token: "t0ken" } }],
      contexts: [{ name: "local", context: { cluster: "local", user: "u" } }],
      "current-context": "local",
    }),
  );
  const client = KubeClient.load({ kind: "file", path: kubeconfig });
  try {
    const first = await client.list<{ metadata: { name: string } }>(NAMESPACES);
    t.deepEqual(first.map((n) => n.metadata.name), ["n1"]);
    const second = await client.list<{ metadata: { name: string } }>(NAMESPACES);
    t.deepEqual(second.map((n) => n.metadata.name), ["n3"]);
    t.is(received, 3);
    t.is(connections, 2);
    t.is(client.requests, 2);
  } finally {
    client.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
