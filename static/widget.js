/* Clinic Inbox website chat. Embed on any site:
 *   <script async src="https://<inbox>/static/widget.js" data-channel="<channel key>"></script>
 * Vanilla JavaScript, nothing loaded at run time. The widget lives in a shadow root with
 * a constructed stylesheet (no style attributes, no eval), so it runs under a strict
 * Content-Security-Policy and the host page's CSS cannot reach it. Server and visitor text only
 * ever enters the page through textContent. API: inbox/webchat.py. */
(() => {
  "use strict";
  const me = document.currentScript;
  const KEY = me && me.getAttribute("data-channel");
  if (!KEY || !me.src) return;
  const ONCE = "__clinicInboxWidget:" + KEY;
  if (window[ONCE]) return; // the tag was pasted twice
  window[ONCE] = true;

  const BASE = new URL(me.src, location.href).origin;
  const API = BASE + "/hooks/webchat/" + encodeURIComponent(KEY) + "/";
  const EN = /^en/i.test(document.documentElement.lang || "");
  const LANG = EN ? "en" : "ru";
  const ruPlural = (n, one, few, many) => {
    const d = n % 10, h = n % 100;
    return d === 1 && h !== 11 ? one : d >= 2 && d <= 4 && (h < 12 || h > 14) ? few : many;
  };
  const T = EN ? {
    open: "Chat with the clinic", close: "Close the chat", title: "Chat with the clinic",
    unread: (n) => n + (n === 1 ? " new message" : " new messages"),
    online: "We are online and will answer shortly.",
    wait: (n) => "All administrators are busy right now. Expected wait: about " + n + " min.",
    message: "Message", placeholder: "Write a message…", send: "Send",
    intro: "Introduce yourself so that we know how to address you.",
    name: "Name", phone: "Phone", start: "Start the chat",
    required: "Please fill in the required fields.",
    consent: "Please agree to the processing of your personal data.",
    ask: "Leave a phone number or a messenger username and we will answer there.",
    contact: "Phone, Telegram or WhatsApp", save: "Save", dismiss: "Not now",
    saved: "Thank you! We will answer you there.", answerHere: "Please answer me here: ",
    sending: "Sending…", retrying: "No connection, trying again…", failed: "Not sent",
    error: "Something went wrong. Please try again.", busy: "Too many messages, wait a minute.",
    sound: "Sound notifications", clinic: "Clinic", you: "You:", image: "Image", file: "File",
    inviteClose: "Close the invitation", log: "Conversation",
  } : {
    open: "Чат с клиникой", close: "Закрыть чат", title: "Чат с клиникой",
    unread: (n) => n + ruPlural(n, " новое сообщение", " новых сообщения", " новых сообщений"),
    online: "Мы на связи и скоро ответим.",
    wait: (n) => "Все администраторы сейчас заняты. Ожидаемое время ответа — около " + n +
      " мин.",
    message: "Сообщение", placeholder: "Напишите сообщение…", send: "Отправить",
    intro: "Представьтесь, чтобы мы знали, как к вам обращаться.",
    name: "Имя", phone: "Телефон", start: "Начать чат",
    required: "Заполните обязательные поля.",
    consent: "Отметьте согласие на обработку персональных данных.",
    ask: "Оставьте телефон или ник в мессенджере — ответим туда.",
    contact: "Телефон, Telegram или WhatsApp", save: "Сохранить", dismiss: "Не сейчас",
    saved: "Спасибо! Ответим вам туда.", answerHere: "Ответьте мне сюда: ",
    sending: "Отправляется…", retrying: "Нет связи, пробуем ещё раз…", failed: "Не отправлено",
    error: "Что-то пошло не так. Попробуйте ещё раз.", busy: "Слишком много сообщений, подождите минуту.",
    sound: "Звук уведомлений", clinic: "Клиника", you: "Вы:", image: "Изображение", file: "Файл",
    inviteClose: "Закрыть приглашение", log: "Переписка",
  };

  // --- Storage: localStorage for the visitor, sessionStorage for this visit; memory when the
  // browser blocks them (third-party storage rules, private modes).
  const usable = (name) => {
    try {
      const s = window[name];
      s.setItem("__ci", "1");
      s.removeItem("__ci");
      return s;
    } catch (e) {
      return null;
    }
  };
  const LOCAL = usable("localStorage"), VISIT = usable("sessionStorage"), MEMORY = {};
  const NS = "clinic-inbox:" + KEY + ":";
  const get = (name, visit) => {
    const s = visit ? VISIT : LOCAL, k = (visit ? "v:" : "l:") + name;
    try {
      if (s) return s.getItem(NS + name);
    } catch (e) { /* fall through to memory */ }
    return k in MEMORY ? MEMORY[k] : null;
  };
  const put = (name, value, visit) => {
    const s = visit ? VISIT : LOCAL;
    MEMORY[(visit ? "v:" : "l:") + name] = value;
    try {
      if (!s) return;
      if (value === null) s.removeItem(NS + name);
      else s.setItem(NS + name, value);
    } catch (e) { /* memory holds it */ }
  };

  // --- API
  let token = get("token");
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
  const backoff = (ms, max) => Math.min(max || 30000, ms ? ms * 2 : 1000);
  const call = async (method, path, body, seconds) => {
    const headers = {Accept: "application/json"};
    if (token) headers["X-Visitor-Token"] = token;
    if (body) headers["Content-Type"] = "application/json";
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), (seconds || 15) * 1000);
    try {
      const r = await fetch(API + path, {method, headers, body: body && JSON.stringify(body),
        credentials: "omit", cache: "no-store", signal: abort.signal});
      let data = {};
      try {
        data = await r.json();
      } catch (e) { /* an empty or non-JSON answer */ }
      return {status: r.status, data: data || {}};
    } finally {
      clearTimeout(timer);
    }
  };

  // --- DOM: elements built one by one; text only via textContent.
  const h = (tag, props, kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") el.textContent = v;
      else if (k === "cls") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids || []) if (kid) el.appendChild(kid);
    return el;
  };
  const SVG = "http://www.w3.org/2000/svg";
  const icon = (d) => {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  };
  const CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  const CROSS = "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z";
  const SEND = "M3 20.5 21.5 12 3 3.5v6.6L16 12 3 13.9z";
  const BELL = "M12 22a2.5 2.5 0 0 0 2.4-2h-4.8a2.5 2.5 0 0 0 2.4 2zm7-6V11a7 7 0 0 0-5.5-6.8V3a1.5 1.5 0 0 0-3 0v1.2A7 7 0 0 0 5 11v5l-2 2v1h18v-1z";

  const css = (color, dark) => `
:host{all:initial!important;display:block!important;position:static!important}
*{box-sizing:border-box}
[hidden]{display:none!important}
.w{--c:${color};--on:${dark ? "#111" : "#fff"};position:fixed;bottom:20px;right:20px;z-index:2147483000;
font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2330;
display:flex;flex-direction:column;align-items:flex-end;gap:12px;-webkit-text-size-adjust:100%}
.w.left{right:auto;left:20px;align-items:flex-start}
button,input,textarea{font:inherit;color:inherit}
button{cursor:pointer}
:focus-visible{outline:3px solid var(--c);outline-offset:2px}
.launcher{position:relative;width:60px;height:60px;border:0;border-radius:50%;background:var(--c);
color:var(--on);box-shadow:0 6px 20px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}
.launcher:focus-visible{outline-color:#1d2330}
svg{width:26px;height:26px;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;
background:#d93025;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center}
.invite{position:relative;max-width:280px;background:#fff;border-radius:14px;padding:0;
box-shadow:0 6px 24px rgba(0,0,0,.2);display:flex;align-items:flex-start}
.invite-open{flex:1;border:0;background:none;text-align:left;padding:14px 4px 14px 16px;white-space:pre-wrap;overflow-wrap:anywhere}
.x{border:0;background:none;width:36px;height:36px;flex:none;display:flex;align-items:center;justify-content:center;border-radius:8px}
.x svg{width:18px;height:18px}
.panel{width:370px;height:min(600px,calc(100vh - 120px));background:#fff;border-radius:16px;overflow:hidden;
box-shadow:0 10px 40px rgba(0,0,0,.28);display:flex;flex-direction:column}
.head{background:var(--c);color:var(--on);padding:14px 10px 14px 18px;display:flex;gap:6px;align-items:flex-start}
.head .x{color:var(--on)}
.head .x[aria-pressed=false]{opacity:.55}
.titles{flex:1;min-width:0}
h2{margin:0;font-size:17px;font-weight:600}
.status{margin:4px 0 0;font-size:13px;opacity:.95}
.log{flex:1;min-height:0;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;background:#f5f6f8;
overscroll-behavior:contain}
.msg{max-width:82%;align-self:flex-start;background:#fff;border-radius:14px 14px 14px 4px;padding:8px 12px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.msg.visitor{align-self:flex-end;background:var(--c);color:var(--on);border-radius:14px 14px 4px 14px}
.author{font-size:12px;font-weight:600;color:#5b6472;margin-bottom:2px}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
.meta{font-size:11px;opacity:.7;margin-top:3px;text-align:right}
.msg.failed .meta{opacity:1;font-weight:600}
.files{display:flex;flex-direction:column;gap:6px;margin-top:6px}
.files img{display:block;max-width:100%;max-height:240px;border-radius:8px}
.files a{color:inherit}
.card,.pre{padding:12px 14px;border-top:1px solid #e3e6ea;display:flex;flex-direction:column;gap:8px;background:#fff}
.card p,.pre p{margin:0;font-size:14px}
label{display:flex;flex-direction:column;gap:3px;font-size:13px;color:#5b6472}
label.check{flex-direction:row;align-items:flex-start;gap:8px;color:#1d2330}
label.check input{margin:3px 0 0;flex:none;width:16px;height:16px}
input[type=text],input[type=tel],textarea{width:100%;border:1px solid #c9ced6;border-radius:10px;padding:8px 10px;background:#fff;color:#1d2330}
.row{display:flex;gap:8px;flex-wrap:wrap}
.btn{border:0;border-radius:10px;padding:9px 16px;background:var(--c);color:var(--on);font-weight:600}
.btn.plain{background:#eef0f3;color:#1d2330}
.err{margin:0;color:#b3261e;font-size:13px}
.err:empty{display:none}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid #e3e6ea;background:#fff}
.composer textarea{resize:none;max-height:140px;line-height:1.35}
.composer .btn{padding:0;width:42px;height:42px;flex:none;display:flex;align-items:center;justify-content:center}
.composer .btn svg{width:20px;height:20px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){
.w.open{inset:0}
.w.open .launcher,.w.open .invite{display:none}
.panel{position:fixed;inset:0;width:auto;height:auto;border-radius:0}
input[type=text],input[type=tel],textarea{font-size:16px}}
@media (prefers-reduced-motion:no-preference){.panel{animation:ci-in .16s ease-out}}
@keyframes ci-in{from{opacity:0;transform:translateY(8px)}}`;

  const host = h("div", {"data-clinic-inbox": ""});
  const root = host.attachShadow({mode: "open"});
  const style = (text) => {
    try { // A constructed sheet: not an inline <style>, so a strict style-src allows it.
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      root.adoptedStyleSheets = [sheet];
      return;
    } catch (e) { /* older browsers: a <style>, with the page's nonce when it has one */ }
    root.appendChild(h("style", {nonce: me.nonce || null, text}));
  };

  // --- State
  let config = null, configAt = 0, cursor = 0, polling = false, sessionAsk = null;
  let unreadIds = [], seen = +(get("seen") || 0), sound = get("sound") === "1";
  const known = new Set(), pending = [];
  let outbox = Promise.resolve();

  // --- Elements (built after the configuration arrives)
  let wrap, launcher, badge, invite, inviteText, panel, status, log, pre, preErr, card, cardErr,
    composer, textarea, sendErr, soundBtn, announce;

  const timeOf = (at) => {
    const d = new Date(at);
    if (isNaN(d)) return "";
    const time = d.toLocaleTimeString(LANG, {hour: "2-digit", minute: "2-digit"});
    return d.toDateString() === new Date().toDateString() ? time
      : d.toLocaleDateString(LANG, {day: "numeric", month: "short"}) + ", " + time;
  };
  const safeUrl = (url) => {
    try {
      const u = new URL(url, BASE);
      return /^https?:$/.test(u.protocol) ? u.href : null;
    } catch (e) {
      return null;
    }
  };
  const files = (attachments) => {
    if (!attachments || !attachments.length) return null;
    return h("div", {cls: "files"}, attachments.map((a) => {
      const url = safeUrl(a.url);
      if (!url) return null;
      const name = a.name || (a.kind === "image" ? T.image : T.file);
      const inner = a.kind === "image" ? h("img", {src: url, alt: name, loading: "lazy"})
        : document.createTextNode(name);
      return h("a", {href: url, target: "_blank", rel: "noopener noreferrer"}, [inner]);
    }));
  };
  const bubble = (m) => {
    const clinic = m.from !== "visitor";
    const el = h("div", {cls: "msg " + (clinic ? "clinic" : "visitor")}, [
      clinic ? h("div", {cls: "author", text: m.author || T.clinic})
        : h("span", {cls: "sr", text: T.you}),
      m.text ? h("div", {cls: "text", text: m.text}) : null,
      files(m.attachments),
      h("div", {cls: "meta", text: m.at ? timeOf(m.at) : ""}),
    ]);
    if (m.id !== undefined) el.setAttribute("data-id", String(m.id));
    return el;
  };
  const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const toBottom = () => { log.scrollTop = log.scrollHeight; };
  const place = (el, id) => {
    for (const kid of log.children) {
      const other = kid.getAttribute("data-id");
      if (kid.classList.contains("pending") || (other !== null && +other > id)) {
        log.insertBefore(el, kid);
        return;
      }
    }
    log.appendChild(el);
  };

  // --- Status: who answers, and when
  const statusText = () => {
    const s = (config && config.status) || {};
    if (s.answer_text) return s.answer_text;
    if (s.expected_wait_minutes > 0) return T.wait(Math.round(s.expected_wait_minutes));
    return T.online;
  };
  const offline = () => { // nobody answers now: ask where to answer later
    const s = (config && config.status) || {};
    return s.online === false || s.open === false;
  };
  const refresh = async () => {
    try {
      const r = await call("GET", "config/?lang=" + LANG);
      if (r.status === 200 && r.data.status) {
        config = r.data;
        configAt = Date.now();
        status.textContent = statusText();
        showCard();
      }
    } catch (e) { /* keep the last status */ }
  };

  // --- Unread badge and sound
  const isOpen = () => wrap && !panel.hidden;
  const reading = () => isOpen() && !document.hidden;
  const markSeen = () => {
    const top = Math.max(seen, ...unreadIds);
    unreadIds = [];
    if (top !== seen) {
      seen = top;
      put("seen", String(seen));
    }
    paintBadge();
  };
  const paintBadge = () => {
    const n = unreadIds.length;
    badge.hidden = !n;
    badge.textContent = n > 99 ? "99+" : String(n);
    launcher.setAttribute("aria-label", n ? T.open + ". " + T.unread(n) : T.open);
  };
  let audio = null;
  const beep = () => {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const osc = audio.createOscillator(), gain = audio.createGain(), t = audio.currentTime;
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, t);
      gain.gain.exponentialRampToValueAtTime(0.001, t + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.3);
    } catch (e) { /* no audio: fine */ }
  };

  // --- Receiving
  const receive = (messages, fresh) => {
    const stick = atBottom();
    let news = false;
    for (const m of messages || []) {
      if (m.id === undefined || known.has(m.id)) continue;
      known.add(m.id);
      if (m.from === "visitor") {
        const i = pending.findIndex((p) => p.text === (m.text || "").trim());
        if (i >= 0) { // our own message, seen before its POST answered
          const p = pending.splice(i, 1)[0];
          settle(p, m);
          continue;
        }
      } else if (m.id > seen) {
        if (reading()) seen = Math.max(seen, m.id);
        else {
          unreadIds.push(m.id);
          news = true;
        }
      }
      place(bubble(m), m.id);
    }
    put("seen", String(seen));
    paintBadge();
    if (news && fresh && sound) beep();
    if (stick) toBottom();
  };
  const settle = (p, m) => {
    p.el.classList.remove("pending", "failed");
    p.el.setAttribute("data-id", String(m.id));
    p.el.querySelector(".meta").textContent = timeOf(m.at);
  };
  const poll = async () => {
    if (polling || !token) return;
    polling = true;
    let delay = 0, first = true;
    while (token) {
      // A hidden tab stops asking (and catches up when shown), unless the visitor wants sound.
      if (document.hidden && !sound && !first) await new Promise((done) => {
        const go = () => {
          if (document.hidden) return;
          document.removeEventListener("visibilitychange", go);
          done();
        };
        document.addEventListener("visibilitychange", go);
      });
      const mine = token;
      try {
        const r = await call("GET", "messages/?after=" + cursor + "&wait=" + (first ? 0 : 25), null, 40);
        if (mine !== token) continue;
        if (r.status === 200) {
          receive(r.data.messages, !first);
          cursor = Math.max(cursor, +r.data.cursor || 0);
          first = false;
          delay = 0;
          continue;
        }
        if (r.status === 401) { // the server forgot this visitor: a new session when they write
          token = null;
          put("token", null);
          break;
        }
        delay = r.status === 429 ? backoff(Math.max(delay, 5000), 120000) : backoff(delay);
      } catch (e) {
        delay = backoff(delay);
      }
      await sleep(delay);
    }
    polling = false;
  };

  // --- Session: created when the visitor first needs one, confirmed on load when stored.
  const session = () => sessionAsk = sessionAsk || (async () => {
    let delay = 0;
    for (let attempt = 0; attempt < 6; attempt++) {
      try {
        const r = await call("POST", "session/", {});
        if ((r.status === 200 || r.status === 201) && r.data.token) {
          if (r.data.token !== token) { // a new visitor (or one the server no longer knows)
            token = r.data.token;
            put("token", token);
            if (!r.data.returning) put("profile", null);
          }
          poll();
          return true;
        }
        if (r.status < 500 && r.status !== 429) break;
      } catch (e) { /* network: try again */ }
      await sleep(delay = backoff(delay));
    }
    sessionAsk = null;
    return false;
  })();

  // --- Sending: one at a time, in order; retried with the same client_id (stored once).
  const clientId = () => {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };
  const send = (text) => {
    const p = {text, id: clientId(), el: bubble({from: "visitor", text})};
    p.el.classList.add("pending");
    p.el.querySelector(".meta").textContent = T.sending;
    log.appendChild(p.el);
    toBottom();
    pending.push(p);
    outbox = outbox.then(() => deliver(p));
  };
  const deliver = async (p) => {
    const meta = p.el.querySelector(".meta");
    let delay = 0;
    for (;;) {
      if (!pending.includes(p)) return; // the long-poll brought it first
      if (!token && !(await session())) {
        meta.textContent = T.retrying;
        await sleep(delay = backoff(delay));
        continue;
      }
      try {
        const r = await call("POST", "messages/", {text: p.text, client_id: p.id});
        if (r.status === 201 && r.data.message) {
          const i = pending.indexOf(p);
          if (i >= 0) {
            pending.splice(i, 1);
            if (known.has(r.data.message.id)) p.el.remove();
            else {
              known.add(r.data.message.id);
              settle(p, r.data.message);
            }
          }
          sendErr.textContent = "";
          return;
        }
        if (r.status === 401) {
          token = null;
          put("token", null);
          continue;
        }
        if (r.status === 429) {
          sendErr.textContent = T.busy;
          await sleep(delay = backoff(Math.max(delay, 10000), 60000));
          continue;
        }
        if (r.status < 500) {
          if (pending.includes(p)) pending.splice(pending.indexOf(p), 1);
          p.el.classList.add("failed");
          meta.textContent = T.failed;
          sendErr.textContent = r.data.error || T.error;
          return;
        }
      } catch (e) { /* network: the same client_id again */ }
      meta.textContent = T.retrying;
      await sleep(delay = backoff(delay));
    }
  };

  // --- Pre-chat form and the "leave a contact" card
  const profile = async (data, inputs) => { // "" when saved, else what to tell the visitor
    if (!token && !(await session())) return T.error;
    try {
      const r = await call("POST", "profile/?lang=" + LANG, data);
      if (r.status === 200 || r.status === 201) {
        if (data.consent) put("consent", "1");
        return "";
      }
      const input = inputs && inputs[r.data.field];
      if (input) input.focus();
      return r.data.error || T.error;
    } catch (e) {
      return T.error;
    }
  };
  const consentBox = () => {
    const text = config.form && config.form.consent_text;
    if (!text) return [null, null];
    const box = h("input", {type: "checkbox", name: "consent"});
    return [box, h("label", {cls: "check"}, [box, h("span", {text})])];
  };
  const buildPre = () => {
    const form = config.form || {};
    const fields = (form.fields || []).filter((f) => f === "name" || f === "phone");
    const required = form.required || [];
    const inputs = {};
    const labels = fields.map((f) => {
      inputs[f] = h("input", {type: f === "phone" ? "tel" : "text", name: f,
        autocomplete: f === "phone" ? "tel" : "name", inputmode: f === "phone" ? "tel" : null,
        required: required.includes(f), maxlength: f === "phone" ? "32" : "100"});
      return h("label", {}, [h("span", {text: T[f]}, [required.includes(f) ? h("span",
        {"aria-hidden": "true", text: " *"}) : null]), inputs[f]]);
    });
    const [box, consent] = consentBox();
    preErr = h("p", {cls: "err", role: "alert"});
    pre = h("form", {cls: "pre", novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const values = {};
      for (const f of fields) values[f] = inputs[f].value.trim();
      const missing = fields.find((f) => required.includes(f) && !values[f]);
      if (missing) {
        preErr.textContent = T.required;
        inputs[missing].focus();
        return;
      }
      const given = fields.some((f) => values[f]);
      if (given && box && !box.checked) {
        preErr.textContent = T.consent;
        box.focus();
        return;
      }
      if (given) {
        button.disabled = true;
        preErr.textContent = await profile({name: values.name || "", phone: values.phone || "",
          consent: !!(box && box.checked)}, {...inputs, consent: box});
        button.disabled = false;
        if (preErr.textContent) return;
        if (values.phone) put("phone", "1");
      }
      put("profile", "1");
      pre.hidden = true;
      composer.hidden = false;
      showCard();
      textarea.focus();
    }}, [h("p", {text: T.intro}), ...labels, consent, preErr]);
    const button = h("button", {type: "submit", cls: "btn", text: T.start});
    pre.appendChild(button);
    return pre;
  };
  const buildCard = () => {
    const input = h("input", {type: "text", name: "contact", autocomplete: "tel",
      "aria-label": T.contact, placeholder: T.contact, maxlength: "100"});
    const [box, consent] = consentBox();
    cardErr = h("p", {cls: "err", role: "alert"});
    card = h("form", {cls: "card", hidden: true, novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const value = input.value.trim();
      if (!value) {
        cardErr.textContent = T.required;
        return;
      }
      if (box && !box.checked && !get("consent")) {
        cardErr.textContent = T.consent;
        return;
      }
      const digits = value.replace(/\D/g, "");
      if (/^[\d\s()+-]+$/.test(value) && digits.length >= 7) {
        cardErr.textContent = await profile({phone: value, consent: !!(box && box.checked)},
          {phone: input, consent: box});
        if (cardErr.textContent) return;
      } else { // a messenger username: the administrator reads it in the conversation
        if (box && box.checked) {
          cardErr.textContent = await profile({name: "", phone: "", consent: true}, {consent: box});
          if (cardErr.textContent) return;
        }
        send(T.answerHere + value);
      }
      put("phone", "1");
      card.replaceChildren(h("p", {role: "status", text: T.saved}));
      textarea.focus();
    }}, [h("p", {text: T.ask}), input, consent, cardErr, h("div", {cls: "row"}, [
      h("button", {type: "submit", cls: "btn", text: T.save}),
      h("button", {type: "button", cls: "btn plain", text: T.dismiss, onclick: () => {
        put("phone", "0", true);
        card.hidden = true;
        textarea.focus();
      }}),
    ])]);
    return card;
  };
  const showCard = () => {
    if (!card) return;
    card.hidden = !(offline() && pre.hidden && !get("phone") && !get("phone", true));
    const box = card.querySelector(".check");
    if (box) box.hidden = !!get("consent");
  };

  // --- Proactive invite: after N seconds without scrolling, clicking or typing on a page that
  // matches; once per visit, and never again this visit once closed.
  const glob = (pattern, path) => new RegExp("^" + String(pattern).split("*")
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$").test(path);
  const armInvite = () => {
    if (get("invite", true)) return;
    const rule = (config.invites || []).find((r) => r && r.text && glob(r.pattern || "*",
      location.pathname));
    if (!rule) return;
    const events = ["scroll", "wheel", "click", "pointerdown", "keydown", "touchstart"];
    let timer;
    const stop = () => {
      clearTimeout(timer);
      for (const e of events) removeEventListener(e, reset, true);
    };
    const fire = () => {
      stop();
      if (isOpen() || get("invite", true)) return;
      put("invite", "shown", true);
      inviteText.textContent = rule.text;
      invite.hidden = false;
      invite.setAttribute("data-text", "");
      announce.textContent = rule.text;
    };
    function reset() {
      clearTimeout(timer);
      timer = setTimeout(fire, Math.max(0, +rule.idle_seconds || 0) * 1000);
    }
    for (const e of events) addEventListener(e, reset, {capture: true, passive: true});
    reset();
  };
  const closeInvite = () => {
    put("invite", "closed", true);
    const had = root.activeElement && invite.contains(root.activeElement);
    invite.hidden = true;
    if (had) launcher.focus();
  };

  // --- Opening and closing
  const open = (focus) => {
    if (invite.hasAttribute("data-text") && !log.querySelector(".invited")) { // open with the invite
      const el = bubble({from: "clinic", text: inviteText.textContent});
      el.classList.add("invited");
      log.insertBefore(el, log.firstChild.nextSibling);
    }
    invite.hidden = true;
    panel.hidden = false;
    wrap.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    put("open", "1", true);
    markSeen();
    toBottom();
    if (Date.now() - configAt > 60000) refresh();
    if (focus) (pre.hidden ? textarea : pre.querySelector("input")).focus();
  };
  const close = () => {
    panel.hidden = true;
    wrap.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    put("open", null, true);
    launcher.focus();
  };

  const build = () => {
    const look = config.appearance || {};
    const color = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(look.color || "") ? look.color : "#1f6feb";
    const hex = color.length === 4 ? color.replace(/[0-9a-f]/gi, "$&$&").slice(1) : color.slice(1);
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
    style(css(color, 0.299 * r + 0.587 * g + 0.114 * b > 170));

    badge = h("span", {cls: "badge", hidden: true, "aria-hidden": "true"});
    launcher = h("button", {type: "button", cls: "launcher", "aria-expanded": "false",
      "aria-controls": "ci-panel", "aria-label": T.open, onclick: () => isOpen() ? close()
        : open(true)}, [icon(CHAT), badge]);
    inviteText = h("span");
    invite = h("div", {cls: "invite", hidden: true}, [
      h("button", {type: "button", cls: "invite-open", onclick: () => open(true)}, [inviteText]),
      h("button", {type: "button", cls: "x", "aria-label": T.inviteClose, onclick: closeInvite},
        [icon(CROSS)]),
    ]);
    status = h("p", {cls: "status", "aria-live": "polite", text: statusText()});
    soundBtn = h("button", {type: "button", cls: "x", "aria-label": T.sound,
      "aria-pressed": String(sound), onclick: () => {
        sound = !sound;
        put("sound", sound ? "1" : "0");
        soundBtn.setAttribute("aria-pressed", String(sound));
        if (sound) beep();
      }}, [icon(BELL)]);
    log = h("div", {cls: "log", role: "log", "aria-live": "polite", "aria-label": T.log,
      tabindex: "0"});
    if (config.greeting) {
      const el = bubble({from: "clinic", text: config.greeting});
      el.classList.add("greeting");
      log.appendChild(el);
    } else log.appendChild(h("span", {cls: "greeting"}));
    textarea = h("textarea", {name: "text", rows: "1", "aria-label": T.message,
      placeholder: T.placeholder, maxlength: "4000", onkeydown: (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          composer.requestSubmit ? composer.requestSubmit() : submit(e);
        }
      }, oninput: () => {
        textarea.rows = Math.min(5, textarea.value.split("\n").length);
      }});
    sendErr = h("p", {cls: "err", role: "alert"});
    const submit = (e) => {
      e.preventDefault();
      const text = textarea.value.trim();
      if (!text) return;
      textarea.value = "";
      textarea.rows = 1;
      send(text);
    };
    composer = h("form", {cls: "composer", onsubmit: submit}, [textarea,
      h("button", {type: "submit", cls: "btn", "aria-label": T.send}, [icon(SEND)])]);
    buildPre();
    const form = config.form || {};
    pre.hidden = !(form.enabled && (form.fields || []).length && !get("profile"));
    composer.hidden = !pre.hidden;
    panel = h("section", {id: "ci-panel", cls: "panel", role: "dialog", "aria-label": T.title,
      hidden: true, onkeydown: (e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          close();
        }
      }}, [
      h("div", {cls: "head"}, [
        h("div", {cls: "titles"}, [h("h2", {text: config.title || T.title}), status]),
        soundBtn,
        h("button", {type: "button", cls: "x", "aria-label": T.close, onclick: close},
          [icon(CROSS)]),
      ]),
      log, buildCard(), pre, h("div", {}, [sendErr]), composer,
    ]);
    announce = h("p", {cls: "sr", "aria-live": "polite"});
    invite.addEventListener("keydown", (e) => {
      if (e.key === "Escape") closeInvite();
    });
    wrap = h("div", {cls: "w" + (look.position === "left" ? " left" : ""), lang: LANG},
      [invite, panel, launcher, announce]);
    root.appendChild(wrap);
    showCard();
    (document.body || document.documentElement).appendChild(host);
    document.addEventListener("visibilitychange", () => {
      if (reading()) markSeen();
    });
    document.addEventListener("keydown", (e) => { // Esc with nothing of the page focused
      const at = document.activeElement;
      if (e.key === "Escape" && isOpen() && (!at || at === document.body || at === host)) close();
    });
    if (get("open", true)) open(false);
    armInvite();
  };

  const start = async () => {
    let delay = 0;
    // No configuration, no widget: a refused origin or an unknown channel shows nothing (a
    // refused origin looks like a network error, so this page view gives up after a minute).
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await call("GET", "config/?lang=" + LANG);
        if (r.status === 200) {
          config = r.data;
          configAt = Date.now();
          break;
        }
        if (r.status === 403 || r.status === 404) return;
      } catch (e) { /* network, or CORS refused */ }
      if (attempt === 6) return;
      await sleep(delay = backoff(delay));
    }
    build();
    if (token) session(); // confirms the stored token and loads the conversation
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
