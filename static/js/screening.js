// Headphone check: each item's answers unlock once its tones have played to the end.
"use strict";
(function () {
  const form = document.getElementById("screening");
  const submit = document.getElementById("screening-submit");
  const items = Array.from(form.querySelectorAll(".screening-trial"));

  function refresh() {
    submit.disabled = !items.every((item) => item.querySelector("input:checked"));
  }

  items.forEach((item) => {
    const audio = item.querySelector("audio");
    const button = item.querySelector("button.play");
    button.addEventListener("click", () => {
      items.forEach((other) => {
        if (other !== item) other.querySelector("audio").pause();
      });
      audio.currentTime = 0;
      audio.play();
      button.textContent = "Playing…";
    });
    audio.addEventListener("ended", () => {
      button.textContent = "Play again";
      item.querySelectorAll("input").forEach((input) => (input.disabled = false));
    });
    item.addEventListener("change", refresh);
  });
})();
