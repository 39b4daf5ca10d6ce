import cliProgress from 'cli-progress';

/** A progress bar on stderr, only when stderr is a terminal (never in pipes, logs or CI). */
export function progressBar(label: string, unit = 'bytes', stream: NodeJS.WriteStream = process.stderr): { update: (n: number, total?: number) => void; stop: () => void } {
  if (!stream.isTTY) return { update: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(n, total) {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          // Issue 9.13: with no total (stdin) only the count is shown, never a percentage of a guess.
          { stream, format: total === undefined ? `${label} {value} ${unit}` : `${label} [{bar}] {percentage}% {value}/{total} ${unit}`, clearOnComplete: true, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total ?? n, 0);
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(n);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
