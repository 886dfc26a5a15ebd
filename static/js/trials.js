// The trial page: plays soundtracks on a user gesture, unlocks the answer once every soundtrack has
// played to its end, and sends each answer the moment it is given, with an idempotency key, retrying
// on network failure. The server decides what comes next, so a reload resumes where the participant was.
"use strict";
(function () {
  const app = document.getElementById("app");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  // Inside MTurk's cross-site frame the browser sends no cookies: the page's participant token says who.
  const tokenMeta = document.querySelector('meta[name="participant-token"]');
  const identity = tokenMeta ? { "X-Participant-Token": tokenMeta.content } : {};
  const $ = (id) => document.getElementById(id);
  const RETRY_MS = [500, 1000, 2000, 4000, 8000];
  const COVERAGE = 0.9; // share of a soundtrack that must have been heard for it to count as played

  let current = null; // {trial, finished[], plays[], unlockedAt, answered, view: what the renderer returned}
  let shownTask = null;
  let keyHandler = null;

  function key() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function status(text) {
    $("status").textContent = text || "";
  }

  async function request(url, options) {
    // Retries network failures and server errors with the same body (and so the same idempotency key).
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(url, { credentials: "same-origin", ...options });
        if (response.status < 500 && response.status !== 429) return response;
      } catch (error) {
        // offline, connection reset: try again below
      }
      status("Connection problem: trying again…");
      await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]));
    }
  }

  async function loadNext() {
    const response = await request(app.dataset.nextUrl, { headers: { Accept: "application/json", ...identity } });
    if (response.status === 403) return location.assign(app.dataset.entryUrl);
    const payload = await response.json();
    status("");
    showProgress(payload.progress);
    if (payload.done) return location.assign(app.dataset.entryUrl);
    preload(payload.preload);
    if (shownTask !== payload.trial.task.number) {
      shownTask = payload.trial.task.number;
      showIntro(payload.trial);
    } else {
      showTrial(payload.trial);
    }
  }

  function showProgress(progress) {
    const percent = progress.total ? Math.round((100 * progress.answered) / progress.total) : 0;
    $("progress").setAttribute("aria-valuenow", String(percent));
    $("progress").querySelector(".bar").style.width = percent + "%";
    $("progress-text").textContent = `${progress.answered} of ${progress.total} answered`;
  }

  function preload(urls) {
    const box = $("preload");
    box.replaceChildren();
    urls.forEach((src) => {
      const video = document.createElement("video");
      video.preload = "auto";
      video.muted = true;
      video.src = src;
      box.appendChild(video);
    });
  }

  function showIntro(trial) {
    $("trial").hidden = true;
    $("intro").hidden = false;
    $("intro-title").textContent = `Part ${trial.task.number} of ${trial.task.of}`;
    $("study-instructions").hidden = trial.task.number !== 1;
    $("intro-text").textContent = trial.task.intro;
    setKeys(null);
    $("intro-start").onclick = () => showTrial(trial);
    $("intro-start").focus();
  }

  function showTrial(trial) {
    $("intro").hidden = true;
    $("trial").hidden = false;
    $("trial").dataset.index = String(trial.index);
    $("practice-badge").hidden = !trial.practice;
    $("question").textContent = trial.task.question;
    $("feedback").hidden = true;
    $("continue").hidden = true;
    current = {
      trial,
      finished: trial.stimuli.map(() => false),
      plays: trial.stimuli.map(() => 0),
      unlockedAt: null,
      answered: false,
      key: key(),
    };
    buildPlayers(trial);
    buildAnswers(trial);
    lock(true);
    const first = $("players").querySelector("button.play");
    if (first) first.focus();
  }

  function buildPlayers(trial) {
    const box = $("players");
    box.replaceChildren();
    box.dataset.count = String(trial.stimuli.length);
    trial.stimuli.forEach((stimulus, n) => {
      const figure = document.createElement("figure");
      figure.className = "player";
      const video = document.createElement("video");
      video.src = stimulus.src;
      video.preload = "auto";
      video.playsInline = true;
      video.setAttribute("playsinline", "");
      video.setAttribute("aria-label", `Video ${stimulus.label}`);
      const caption = document.createElement("figcaption");
      caption.textContent = trial.stimuli.length > 1 ? stimulus.label : "";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "play";
      button.textContent = trial.stimuli.length > 1 ? `Play ${stimulus.label}` : "Play";
      button.setAttribute("aria-label", `Play video ${stimulus.label}`);
      button.addEventListener("click", () => play(n));
      video.addEventListener("ended", () => ended(n));
      figure.append(video, caption, button);
      box.appendChild(figure);
    });
  }

  function videos() {
    return Array.from($("players").querySelectorAll("video"));
  }

  function play(n) {
    // A click is the user gesture that browsers require for sound.
    videos().forEach((video, m) => {
      if (m !== n) video.pause();
    });
    const video = videos()[n];
    current.plays[n] += 1;
    video.currentTime = 0;
    const started = video.play();
    if (started) started.catch(() => status("The video could not start: press Play again."));
  }

  function heard(video) {
    let seconds = 0;
    for (let i = 0; i < video.played.length; i++) seconds += video.played.end(i) - video.played.start(i);
    return !video.duration || seconds >= COVERAGE * video.duration;
  }

  function ended(n) {
    if (!heard(videos()[n])) return;
    current.finished[n] = true;
    const button = $("players").querySelectorAll("button.play")[n];
    button.textContent = button.textContent.replace(/^Play/, "Replay");
    if (current.finished.every(Boolean) && current.unlockedAt === null) {
      current.unlockedAt = performance.now(); // response time counts from here
      lock(false);
      const control = $("answers").querySelector("button, select");
      if (control) control.focus();
    } else if (!current.finished.every(Boolean)) {
      const next = current.finished.indexOf(false);
      $("players").querySelectorAll("button.play")[next].focus();
    }
  }

  function lock(locked) {
    $("answers").querySelectorAll("button, select").forEach((control) => (control.disabled = locked || current.answered));
    const left = current.finished.filter((done) => !done).length;
    $("gate-hint").textContent = locked
      ? current.trial.stimuli.length > 1
        ? "Play every soundtrack to the end to answer."
        : "Play the video to the end to answer."
      : "";
    if (!locked && current.view && current.view.onUnlock) current.view.onUnlock();
    return left;
  }

  function answerButton(label, shortcut, onChoose) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "answer";
    button.dataset.key = shortcut;
    button.innerHTML = "";
    const text = document.createElement("span");
    text.textContent = label;
    const kbd = document.createElement("kbd");
    kbd.textContent = shortcut.toUpperCase();
    kbd.setAttribute("aria-hidden", "true");
    button.append(text, " ", kbd);
    button.setAttribute("aria-keyshortcuts", shortcut.toUpperCase());
    button.addEventListener("click", onChoose);
    return button;
  }

  // Each task type's answer controls come from its renderer (static/js/tasks/), registered under the
  // type's name; the page loads the renderers of its study's task types before this script.
  const ui = {
    answerButton,
    submit: (fields) => submit(fields),
    locked: () => current.unlockedAt === null || current.answered,
  };

  function buildAnswers(trial) {
    const box = $("answers");
    box.replaceChildren();
    const group = document.createElement("div");
    group.setAttribute("role", "group");
    group.setAttribute("aria-labelledby", "question");
    group.className = "choices";
    const render = (window.vis2sound || { renderers: {} }).renderers[trial.task.type];
    if (!render) {
      status("This part of the study cannot be shown: please reload the page.");
      current.view = {};
      return;
    }
    current.view = render(trial, group, ui) || {};
    box.appendChild(group);
    setKeys(current.view.keys === false ? null : group);
  }

  function setKeys(group) {
    if (keyHandler) document.removeEventListener("keydown", keyHandler);
    keyHandler = (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const tag = (event.target.tagName || "").toLowerCase();
      if (tag === "select" || tag === "textarea" || tag === "input") return;
      if (!current || $("trial").hidden) return;
      if (event.key === " ") {
        event.preventDefault();
        const next = current.finished.indexOf(false);
        play(next === -1 ? 0 : next);
        return;
      }
      if (!group) return;
      const button = Array.from(group.querySelectorAll("button")).find(
        (b) => b.dataset.key === event.key.toLowerCase()
      );
      if (button && !button.disabled) {
        event.preventDefault();
        button.click();
      }
    };
    document.addEventListener("keydown", keyHandler);
  }

  async function submit(fields) {
    if (current.answered || current.unlockedAt === null) return;
    current.answered = true;
    lock(true);
    $("gate-hint").textContent = "Saving…";
    videos().forEach((video) => video.pause());
    const body = JSON.stringify({
      idempotency_key: current.key,
      response_time_ms: Math.max(0, Math.round(performance.now() - current.unlockedAt)),
      play_counts: current.plays,
      client_time: new Date().toISOString(),
      ...fields,
    });
    const url = app.dataset.answerUrl.replace(/\/0$/, "/" + current.trial.index);
    const response = await request(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": csrf,
        Accept: "application/json",
        ...identity,
      },
      body,
    });
    $("gate-hint").textContent = "";
    if (response.status === 403) return location.assign(app.dataset.entryUrl);
    const payload = await response.json().catch(() => ({}));
    if (response.status === 400) {
      current.answered = false;
      lock(false);
      return status(payload.error || "That answer could not be saved.");
    }
    // 200, or 409: saved already (a retry of a request that had reached the server) — go on either way.
    status("");
    if (payload.feedback) {
      $("feedback").textContent = payload.feedback;
      $("feedback").hidden = false;
      $("continue").hidden = false;
      $("continue").onclick = loadNext;
      $("continue").focus();
    } else {
      loadNext();
    }
  }

  loadNext();
})();
