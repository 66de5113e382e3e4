// Loads a classic (non-module) script, as the peers' UMD and Closure builds need; resolves once it ran.
export function script(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}
