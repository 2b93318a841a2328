// Benchmark kernels for the fuel-metering overhead, compiled by AssemblyScript with -O3.
// Each export takes a size and returns a checksum, so the work cannot be optimised away.

export function fib(n: i32): i32 {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export function sumLoop(n: i32): i64 {
  let sum: i64 = 0;
  for (let i: i64 = 0; i < n; i++) sum += (i * i) % 7;
  return sum;
}

export function sieve(n: i32): i32 {
  const composite = new StaticArray<u8>(n + 1);
  let count = 0;
  for (let i = 2; i <= n; i++) {
    if (unchecked(composite[i])) continue;
    count++;
    for (let j = i * 2; j <= n; j += i) unchecked((composite[j] = 1));
  }
  return count;
}

function quicksortRange(a: StaticArray<i32>, lo: i32, hi: i32): void {
  while (lo < hi) {
    const pivot = unchecked(a[(lo + hi) >>> 1]);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (unchecked(a[i]) < pivot) i++;
      while (unchecked(a[j]) > pivot) j--;
      if (i <= j) {
        const t = unchecked(a[i]);
        unchecked((a[i] = a[j]));
        unchecked((a[j] = t));
        i++;
        j--;
      }
    }
    if (j - lo < hi - i) {
      quicksortRange(a, lo, j);
      lo = i;
    } else {
      quicksortRange(a, i, hi);
      hi = j;
    }
  }
}

export function quicksort(n: i32): i32 {
  const a = new StaticArray<i32>(n);
  let seed: u32 = 12345;
  for (let i = 0; i < n; i++) {
    seed = seed * 1103515245 + 12345;
    unchecked((a[i] = <i32>(seed >>> 8)));
  }
  quicksortRange(a, 0, n - 1);
  return unchecked(a[n >>> 1]);
}

export function matmul(n: i32): f64 {
  const a = new StaticArray<f64>(n * n);
  const b = new StaticArray<f64>(n * n);
  const c = new StaticArray<f64>(n * n);
  for (let i = 0; i < n * n; i++) {
    unchecked((a[i] = <f64>(i % 13)));
    unchecked((b[i] = <f64>(i % 7)));
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0.0;
      for (let k = 0; k < n; k++) sum += unchecked(a[i * n + k]) * unchecked(b[k * n + j]);
      unchecked((c[i * n + j] = sum));
    }
  }
  return unchecked(c[n + 1]);
}

export function hash(n: i32): u32 {
  const data = new StaticArray<u8>(65536);
  for (let i = 0; i < 65536; i++) unchecked((data[i] = <u8>(i * 31)));
  let h: u32 = 2166136261;
  for (let round = 0; round < n; round++) {
    for (let i = 0; i < 65536; i++) {
      h ^= unchecked(data[i]);
      h *= 16777619;
    }
  }
  return h;
}
