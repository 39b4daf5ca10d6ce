import cliProgress from 'cli-progress';

/** A progress bar on stderr, only when stderr is a terminal (never in pipes, logs or CI). */
export function progressBar(label: string, unit = 'bytes'): { update: (n: number, total?: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(n, total) {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: `${label} [{bar}] {percentage}% {value}/{total} ${unit}`, clearOnComplete: true, hideCursor: true },
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
