// Rating tasks: one button per point of the task's scale, labelled "n · label", key n.
"use strict";
(function () {
  const registry = (window.vis2sound = window.vis2sound || { renderers: {} });
  function render(trial, group, ui) {
    group.classList.add("scale");
    trial.task.scale_labels.forEach((label, n) =>
      group.append(ui.answerButton(`${n + 1} · ${label}`, String(n + 1), () => ui.submit({ rating: n + 1 })))
    );
    return { keys: true };
  }
  document.currentScript.dataset.taskTypes.split(" ").forEach((type) => (registry.renderers[type] = render));
})();
