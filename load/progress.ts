/**
 * The live progress line (cli-progress): sessions settled out of planned, with up / failed / in
 * progress and the current setup rate. Only on a terminal; `--no-progress` turns it off.
 */
import cliProgress from 'cli-progress';

export interface ProgressView {
  settled: number;
  up: number;
  active: number;
  failed: number;
  inProgress: number;
  tunnelsUp: number;
  rate: number;
  /** --ping-rate: e.g. " | echo 1200 sent 1190 back 2 lost"; empty otherwise. */
  data?: string;
}

export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;

  constructor(enabled: boolean, total: number) {
    if (!enabled || !process.stdout.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stdout,
        format: 'sessions {bar} {percentage}% | established {up} (up now {active}) | failed {failed} | in progress {inProgress} | {rate}/s | tunnels {tunnelsUp}{data} | {duration_formatted}',
        hideCursor: true,
        fps: 5,
        barsize: 24,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.max(1, total), 0, { up: 0, active: 0, failed: 0, inProgress: 0, rate: 0, tunnelsUp: 0, data: '' });
  }

  update(v: ProgressView): void {
    this.bar?.update(v.settled, { up: v.up, active: v.active, failed: v.failed, inProgress: v.inProgress, rate: Math.round(v.rate), tunnelsUp: v.tunnelsUp, data: v.data ?? '' });
  }

  stop(): void {
    this.bar?.stop();
  }
}
