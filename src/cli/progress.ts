// Progress of long commands on stderr (stdout carries the result): a bar redrawn in place on a
// terminal, a line per tenth of the way otherwise (CI logs, pipes).
export interface TerminalProgress {
  update(done: number, total: number, message?: string): void;
  finish(): void;
}

export function terminalProgress(label: string, stream: NodeJS.WriteStream = process.stderr): TerminalProgress {
  const tty = Boolean(stream.isTTY);
  let lastTenth = -1;
  let drawn = false;
  return {
    update(done, total, message) {
      if (tty) {
        const width = 30;
        const filled = total === 0 ? width : Math.round((done / total) * width);
        stream.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}${message ? ` ${message}` : ""}\x1b[K`);
        drawn = true;
        return;
      }
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${label}: ${done}/${total} workloads (${total === 0 ? 100 : Math.round((done / total) * 100)}%)\n`);
    },
    finish() {
      if (tty && drawn) stream.write("\n");
    },
  };
}
