/**
 * The statistics of a sweep: mean, sample standard deviation and the 95 %
 * confidence interval of the mean (Student's t, n − 1 degrees of freedom),
 * so a table or a chart shows how sure the mean is, not how far runs spread.
 */

/** Two-sided 97.5 % quantiles of Student's t for 1…30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t(0.975, df): the table up to 30, beyond it the Cornish–Fisher expansion around z = 1.95996 (error < 1e-4). */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) return Infinity;
  if (df <= 30) return T975[Math.floor(df) - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, x) => a + x, 0) / xs.length;
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Half-width of the 95 % confidence interval of the mean: t(0.975, n − 1) · sd / √n; 0 below two values. */
export function ci95HalfWidth(xs: readonly number[]): number {
  return xs.length < 2 ? 0 : (tQuantile975(xs.length - 1) * sampleSd(xs)) / Math.sqrt(xs.length);
}
