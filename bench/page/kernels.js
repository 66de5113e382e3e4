// `npm run bench -- --kernels`, in the bench page: seeded float inference per kernel family. Each build is
// a package folder with one of its .wasm files, served under its own /builds/<i> so that each gets a
// module instance of its own. Variants (build × family) take turns run by run, so load from other
// processes hits them alike; then per-layer times (Model.profileFloat) of as many profiled runs.

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * options: {builds: [{url, wasm, label}], families (null: every family of each build), alpha, resolution,
 * runs, warmup} → {isolated, runs: {key: {median, min, max}}, layers: {key: [{name, op, macs, ms, min}]}},
 * keys `[label:]family`.
 */
export async function kernels(o) {
  const input = new Float32Array(o.resolution * o.resolution * 3).map((_, i) => (i % 255) / 127.5 - 1);
  const variants = [];
  for (const build of o.builds) {
    const mod = await import(`${build.url}/mobilenet_wasm.js`);
    await mod.default({ module_or_path: `${build.url}/${build.wasm}` });
    const model = mod.Model.seeded(o.alpha, o.resolution, 1);
    const has = mod.kernelFamilies();
    for (const family of o.families ?? has) {
      if (!has.includes(family)) throw new Error(`${build.label || 'the build'} has no kernel family ${family} (it has ${has.join(', ')})`);
      variants.push({ model, family, key: build.label ? `${build.label}:${family}` : family });
    }
  }
  const layers = variants[0].model.inspect().layers;
  const times = Object.fromEntries(variants.map((v) => [v.key, []]));
  const profiles = Object.fromEntries(variants.map((v) => [v.key, []]));
  for (let i = 0; i < o.warmup + o.runs; i++) {
    for (const v of variants) {
      v.model.useKernels(v.family);
      const t0 = performance.now();
      v.model.run(input);
      const t = performance.now() - t0;
      if (i >= o.warmup) times[v.key].push(t);
    }
  }
  for (let i = 0; i < o.runs; i++) {
    for (const v of variants) {
      v.model.useKernels(v.family);
      profiles[v.key].push(v.model.profileFloat(input));
    }
  }
  const out = { isolated: crossOriginIsolated, runs: {}, layers: {} };
  for (const { key } of variants) {
    const t = times[key];
    out.runs[key] = { median: median(t), min: Math.min(...t), max: Math.max(...t) };
    out.layers[key] = layers.map((l, i) => ({
      name: l.name, op: l.op, macs: l.macs, ms: median(profiles[key].map((p) => p[i])),
      min: Math.min(...profiles[key].map((p) => p[i])),
    }));
  }
  for (const model of new Set(variants.map((v) => v.model))) model.free();
  return out;
}
