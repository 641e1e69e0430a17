'use strict';
// The live web view. web_node pushes over one WebSocket: JSON messages (snapshot, device,
// estimate, point, forget, forget_device, alert; see av_emotion_feedback/view.py) and, as
// binary messages, JPEG images of this robot's annotated camera.

const view = { labels: [], colours: [], circumplex: [], history: 300, staleAfter: 2 };
const devices = new Map(); // device name -> {el}
const people = new Map(); // key -> {el, estimate, timeline, updated}
const alerts = new Map(); // key -> element
let camera = null; // the device whose images arrive
let cameraUrl = null; // the object URL of the image shown

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const colour = (label) => view.colours[view.labels.indexOf(label)];
const clone = (id) => document.getElementById(id).content.firstElementChild.cloneNode(true);

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  ws.binaryType = 'blob';
  ws.onopen = () => connection('live', true);
  ws.onclose = () => {
    connection('reconnecting…', false);
    setTimeout(connect, 2000);
  };
  ws.onmessage = (event) => {
    if (typeof event.data === 'string') handle(JSON.parse(event.data));
    else showImage(event.data);
  };
}

function connection(text, live) {
  const el = document.getElementById('connection');
  el.textContent = text;
  el.classList.toggle('live', live);
}

function handle(msg) {
  switch (msg.type) {
    case 'snapshot': return snapshot(msg);
    case 'device': return device(msg);
    case 'estimate': return estimate(msg);
    case 'point': return point(msg);
    case 'forget': return forget(msg.key);
    case 'forget_device': return forgetDevice(msg.device);
    case 'alert': return showAlert(msg);
  }
}

function snapshot(msg) {
  Object.assign(view, { labels: msg.labels, colours: msg.colours, circumplex: msg.circumplex,
                        history: msg.history, staleAfter: msg.stale_after });
  for (const name of [...devices.keys()]) forgetDevice(name);
  for (const key of [...alerts.keys()]) alerts.get(key).remove();
  alerts.clear();
  msg.devices.forEach(device);
  for (const person of msg.people) {
    estimate(person);
    const entry = people.get(person.key);
    entry.timeline = person.timeline;
    entry.updated = performance.now() - 1000 * person.age;
    drawTimeline(entry);
  }
  msg.alerts.forEach(showAlert);
  tick();
}

function device(info) {
  let entry = devices.get(info.device);
  if (!entry) {
    const el = clone('device-template');
    el.querySelector('.name').textContent = info.own
      ? (info.device === '/' ? 'this robot' : `${info.device} (this robot)`) : info.device;
    document.getElementById('devices').append(el);
    entry = devices.set(info.device, { el }).get(info.device);
  }
  entry.el.classList.toggle('room', info.modalities === null);
  entry.el.dataset.device = info.device;
  for (const badge of entry.el.querySelectorAll('.modality')) {
    badge.classList.toggle('on', (info.modalities || []).includes(badge.dataset.modality));
  }
  if (info.image) camera = info.device;
  return entry;
}

function forgetDevice(name) {
  for (const [key, entry] of people) if (entry.estimate.device === name) forget(key);
  devices.get(name)?.el.remove();
  devices.delete(name);
}

function estimate(e) {
  let entry = people.get(e.key);
  if (!entry) {
    const owner = devices.get(e.device) || device({ device: e.device, modalities: null });
    const el = clone('person-template');
    el.dataset.device = e.device;
    el.dataset.face = e.face;
    const bars = el.querySelector('.bars');
    for (const label of view.labels) {
      const row = document.createElement('div');
      row.className = 'row';
      row.style.setProperty('--c', colour(label));
      row.innerHTML = '<span class="name"></span><div class="bar"><span></span></div>' +
                      '<span class="value"></span>';
      row.querySelector('.name').textContent = label;
      bars.append(row);
    }
    owner.el.querySelector('.people').append(el);
    entry = { el, timeline: [] };
    people.set(e.key, entry);
  }
  entry.estimate = e;
  entry.updated = performance.now();
  const el = entry.el;
  el.classList.remove('stale');
  const label = el.querySelector('.fused-label');
  label.textContent = e.label;
  label.style.setProperty('--c', colour(e.label));
  label.dataset.stamp = e.stamp;
  el.querySelector('.confidence').textContent = `${Math.round(100 * e.confidence)} %`;
  el.querySelector('.who').textContent = e.face ? `face ${e.face}` : 'voice only';
  el.querySelectorAll('.bars .row').forEach((row, i) => {
    const p = e.probabilities[i];
    row.querySelector('.bar > span').style.width = `${100 * p}%`;
    row.querySelector('.value').textContent = `${Math.round(100 * p)}`;
  });
  drawCircumplex(entry);
}

function point(msg) {
  const entry = people.get(msg.key);
  if (!entry) return;
  const timeline = entry.timeline;
  if (timeline.length && msg.point[0] < timeline[timeline.length - 1][0]) timeline.length = 0;
  timeline.push(msg.point);
  while (msg.point[0] - timeline[0][0] > view.history) timeline.shift();
}

function forget(key) {
  const entry = people.get(key);
  if (!entry) return;
  entry.el.remove();
  people.delete(key);
}

function showAlert(a) {
  const key = `${a.device} ${a.face} ${a.rule}`;
  alerts.get(key)?.remove();
  alerts.delete(key);
  if (!a.active) return;
  const el = document.createElement('div');
  el.className = 'alert';
  el.dataset.testid = 'alert';
  el.innerHTML = '<span class="text"></span><button type="button" aria-label="dismiss">×</button>';
  const who = a.face ? `${a.device} face ${a.face}` : a.device;
  el.querySelector('.text').textContent = `${who}: ${a.description || a.rule}`;
  el.querySelector('button').onclick = () => el.remove();
  document.getElementById('alerts').append(el);
  alerts.set(key, el);
}

function showImage(blob) {
  const entry = devices.get(camera);
  if (!entry) return;
  const img = entry.el.querySelector('.camera');
  const old = cameraUrl;
  cameraUrl = URL.createObjectURL(blob);
  img.onload = () => old && URL.revokeObjectURL(old);
  img.src = cameraUrl;
  img.hidden = false;
  entry.el.classList.add('has-camera');
}

// A canvas's drawing context at the device's pixel density, sized to its CSS box.
function context(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return [ctx, width, height];
}

function drawCircumplex(entry) {
  const [ctx, w, h] = context(entry.el.querySelector('.circumplex'));
  const r = Math.min(w, h) / 2 - 14, cx = w / 2, cy = h / 2;
  const at = (v, a) => [cx + r * v, cy - r * a];
  ctx.strokeStyle = '#444';
  ctx.beginPath();
  ctx.arc(cx, cy, r, 0, 2 * Math.PI);
  ctx.moveTo(cx - r, cy); ctx.lineTo(cx + r, cy);
  ctx.moveTo(cx, cy - r); ctx.lineTo(cx, cy + r);
  ctx.stroke();
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.fillStyle = css('--muted');
  ctx.fillText('arousal', cx, 10);
  ctx.fillText('valence', w - 22, cy - 4);
  view.labels.forEach((label, i) => {
    const [x, y] = at(...view.circumplex[i]);
    ctx.fillStyle = colour(label);
    ctx.fillRect(x - 2, y - 2, 4, 4);
  });
  const trail = entry.timeline.slice(-10);
  trail.forEach(([, , v, a], i) => {
    const [x, y] = at(v, a);
    ctx.globalAlpha = 0.15 + 0.5 * i / trail.length;
    ctx.fillStyle = css('--fg');
    ctx.beginPath(); ctx.arc(x, y, 2.5, 0, 2 * Math.PI); ctx.fill();
  });
  ctx.globalAlpha = 1;
  const e = entry.estimate;
  const [x, y] = at(e.valence, e.arousal);
  ctx.fillStyle = colour(e.label);
  ctx.strokeStyle = '#000';
  ctx.beginPath(); ctx.arc(x, y, 7, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
}

// The timeline up to the newest point, over what it holds (at least MIN_SPAN seconds of
// stamp time, at most `history`): valence and arousal as lines over [-1, 1], the top label
// as a colour band along the bottom.
const MIN_SPAN = 10;
function drawTimeline(entry) {
  const canvas = entry.el.querySelector('.timeline canvas');
  const [ctx, w, h] = context(canvas);
  const points = entry.timeline;
  const band = 10, plot = h - band - 2;
  ctx.strokeStyle = '#3a3a3a';
  ctx.beginPath(); ctx.moveTo(0, plot / 2); ctx.lineTo(w, plot / 2); ctx.stroke();
  if (!points.length) return;
  const end = points[points.length - 1][0];
  const span = Math.min(view.history, Math.max(MIN_SPAN, end - points[0][0]));
  const x = (t) => (t - end + span) / span * w;
  const y = (value) => (1 - value) / 2 * plot;
  points.forEach(([t, label], i) => {
    const next = i + 1 < points.length ? points[i + 1][0] : end;
    ctx.fillStyle = view.colours[label];
    ctx.fillRect(x(t), h - band, Math.max(1, x(next) - x(t)), band);
  });
  for (const [index, variable] of [[2, '--valence'], [3, '--arousal']]) {
    ctx.strokeStyle = css(variable);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, x(p[0]), y(p[index])));
    ctx.stroke();
  }
  const held = Math.round(end - points[0][0]);
  entry.el.querySelector('.legend .span').textContent =
    `last ${held >= 120 ? `${Math.round(held / 60)} min` : `${held} s`}`;
}

// Once a second: timelines redrawn, people without a new estimate for stale_after greyed.
function tick() {
  const now = performance.now();
  for (const entry of people.values()) {
    entry.el.classList.toggle('stale', now - entry.updated > 1000 * view.staleAfter);
    drawTimeline(entry);
  }
}

setInterval(tick, 1000);
connect();
