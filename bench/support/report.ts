/** One line of the summary table. */
export interface SummaryRow {
  readonly benchmark: string;
  readonly baseline: string;
  readonly measured: string;
  /** measured / baseline, as printed. */
  readonly ratio: string;
  /** For timed rows: the median of the round-by-round ratios, which cancels slow drift. */
  readonly paired?: string;
  readonly goal: string;
  /** `ok`, `MISSED` or `info`. */
  readonly verdict: string;
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 as `1,234,567`. */
export const formatCount = (value: number) => grouped.format(value);

/** Nanoseconds per call, such as `812 ns`. */
export const formatNs = (ns: number) => `${ns.toFixed(ns < 100 ? 1 : 0)} ns`;

/** A ratio such as `1.07x`. */
export const formatRatio = (ratio: number) => `${ratio.toFixed(2)}x`;

/** Calls per second, such as `1.23 M/s`. */
export const formatRate = (perSecond: number) =>
  perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(0)} k/s`;

/** Milliseconds from nanoseconds, such as `1,234 ms`. */
export const formatMs = (ns: number) => `${formatCount(ns / 1e6)} ms`;

/** Bytes as MiB or KiB, signed when `signed` is set. */
export function formatBytes(bytes: number, signed = false): string {
  const sign = signed && bytes > 0 ? '+' : bytes < 0 ? '-' : '';
  const size = Math.abs(bytes);
  const text =
    size >= 1024 * 1024
      ? `${(size / 1024 / 1024).toFixed(2)} MiB`
      : `${(size / 1024).toFixed(1)} KiB`;

  return sign + text;
}

/** `ok` when the goal holds, `MISSED` otherwise. */
export const verdict = (met: boolean) => (met ? 'ok' : 'MISSED');

/**
 * The verdict of the ratio of medians, marked `(noisy)` when the median of the round-by-round
 * ratios says otherwise: the machine was too busy for this run to decide.
 */
export const timedVerdict = (met: boolean, pairedMet: boolean) =>
  met === pairedMet ? verdict(met) : `${verdict(met)} (noisy)`;

/** Prints a section heading. */
export function printHeading(title: string): void {
  console.log(`\n== ${title} ${'='.repeat(Math.max(0, 90 - title.length))}`);
}

/** Prints rows under headers, the first column left-aligned and the rest right-aligned. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');

  console.log(line(headers));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) {
    console.log(line(row));
  }
}

/** Prints the summary rows as one table. */
export function printSummary(rows: readonly SummaryRow[]): void {
  printTable(
    ['Benchmark', 'Baseline', 'Measured', 'Ratio', 'Paired', 'Goal', 'Result'],
    rows.map((row) => [
      row.benchmark,
      row.baseline,
      row.measured,
      row.ratio,
      row.paired ?? '-',
      row.goal,
      row.verdict,
    ]),
  );
}
