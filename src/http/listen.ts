// Starts a Node HTTP(S) server on an address and gives back its URL and a close() that ends open
// connections too (keep-alive clients would otherwise hold close() open).
import type http from "node:http";
import type https from "node:https";
import type { AddressInfo } from "node:net";

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(server: http.Server | https.Server, host: string, port: number, scheme: "http" | "https"): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${scheme}://${shownHost}:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
