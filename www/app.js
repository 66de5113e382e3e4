// The page: starts the engine, then the classifier (camera, photos, models) and the layer inspector,
// and keeps the inspector's "loaded model" bar in step with the classifier's model.
import { loadInspector } from './js/index.js';
import { cameraOn, initClassifier, refreshStill, stageInput, watchEndPoint } from './classifier.js';
import { initMaps, mapsModel } from './maps.js';
import { initTeach, teachCamera, teachModel } from './teach.js';
import { initExplorer } from './explorer.js';
import { initWorked } from './worked.js';
import { initInspector, showModel, showTiming } from './inspector.js';
import { $, say } from './dom.js';

// build.sh says whether a threaded build exists, so the page never asks for one that is not there.
async function threadCount() {
  const builds = await fetch('builds.json').then((r) => (r.ok ? r.json() : {}), () => ({}));
  return builds.threads ? navigator.hardwareConcurrency || 1 : 1;
}

const alphaText = (a) => (Number.isInteger(a) ? a.toFixed(1) : String(a));

function onModel(model) {
  teachModel(model);
  model.inspect().then(mapsModel);
  const [h, w] = model.resolution;
  $('loaded').hidden = false;
  $('loaded-text').textContent = `Loaded model: α ${alphaText(model.alpha)} · ${h}×${w} px · ${model.numClasses} classes · ` +
    `${model.numberType}`;
  $('inspect-loaded').onclick = async () => showModel(await model.inspect());
  $('profile-run').hidden = false; // every build times each layer (Model.profile)
  showTiming(null, null);
  $('profile-run').onclick = async () => {
    // Time a mid-grey frame: the cost of a layer does not depend on the picture.
    const [height, width] = model.resolution;
    const rows = await model.profile({ data: new Uint8Array(height * width * 3).fill(128), width, height });
    const report = await model.inspect();
    showModel(report);
    showTiming(report.config, rows);
  };
}

async function main() {
  let inspector;
  try {
    inspector = await loadInspector(); // the engine on this page's thread: the inspector redraws synchronously
  } catch (e) {
    $('build').textContent = 'engine failed to load';
    say($('error'), e.message);
    return;
  }
  $('build').textContent = 'engine ready';
  initInspector(inspector.inspect);
  initExplorer({ inspect: inspector.inspect });
  initWorked();
  document.body.dataset.ready = 'true';
  const macsOf = (alpha, resolution) => inspector.inspect({ alpha, resolution }).totals.macs;
  initTeach({ input: stageInput, cameraOn, video: $('video') });
  initMaps({ watch: watchEndPoint, refresh: refreshStill });
  await initClassifier({ threads: await threadCount(), macsOf, onModel, onCamera: teachCamera });
}

main();
