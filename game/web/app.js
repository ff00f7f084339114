// Crossroads, the participant's page. It speaks docs/protocol.md over one WebSocket, as the
// terminal app does, and receives the same group views. Every piece of text from the server
// or from other people reaches the page as a text node (el() below): nothing is parsed as HTML.
// The seat token travels as a WebSocket subprotocol, never in the address. The tab's seat is
// kept in sessionStorage: it survives a refresh, and a second tab joins as a second participant.
// The browser also remembers its seats (localStorage, for REMEMBER_HOURS) so that a closed tab,
// reopened, offers "Return to your seat" instead of a new name.

const PROTOCOL = "crossroads.v1";
const SEAT_KEY = "crossroads.seat";
const NAME_KEY = "crossroads.name";
const REMEMBERED_KEY = "crossroads.seats";
const DEVICE_KEY = "crossroads.device";
const REMEMBER_HOURS = 12; // a workshop day; then a shared machine forgets the seat
const FINAL = {
  4001: "The facilitator removed you from the session.",
  4002: "This seat was opened in another window or tab.",
  4003: "The session has ended. Thank you for playing.",
};
const PHASES = {
  lobby: ["Lobby", "Waiting for the facilitator to start. You can already talk to your group."],
  brief: ["Brief", "Read your side of the situation."],
  talk: ["Talk", "Talk along the open channels, and ask other groups for what you need."],
  choose: ["Choose", "Pick one option. You can change it until the timer ends."],
  resolve: ["Resolving", "The round is being resolved…"],
  reveal: ["Reveal", "See what changed, and why."],
  timeout: ["Time-out", "Reflect: answer the prompts. Your answers are saved as you type, for the debrief."],
  debrief: ["Debrief", "The whole system, as everyone played it."],
  ended: ["Ended", "The session has ended. Thank you for playing."],
};
const LEVERS = { special_treatment: "special treatment", considerateness: "considerateness", interaction: "interaction", other: "other" };
const TALK_PHASES = ["lobby", "talk", "choose", "debrief"];
const CLOSED_TALK = {
  brief: "Talk opens after the brief",
  resolve: "Talk is closed while the round is resolved",
  reveal: "Talk is closed during the reveal",
  timeout: "Talk is closed during the time-out",
  ended: "The session has ended",
};

const $ = (id) => document.getElementById(id);

/** A new element; string children become text nodes, never markup. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "for") node.htmlFor = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (["value", "checked", "disabled", "hidden", "maxLength"].includes(key)) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const state = {
  ws: null,
  view: null,
  you: null,
  messages: [],
  refs: 0,
  pending: new Map(), // id -> what was sent, to match its ack or error
  unsent: new Map(), // a choice or answer made while the link was down, sent on reconnect
  answers: new Map(), // prompt -> the time-out answer as it stands in its box
  posted: new Map(), // prompt -> the answer last sent (on its way, or recorded)
  acked: new Map(), // prompt -> the answer the server last said it recorded
  answerTimers: new Map(), // prompt -> the timer that sends it once typing stops
  firstUnsent: new Map(), // prompt -> when the oldest keystroke not yet sent was typed
  answerRound: 0, // the round of the time-out those answers are for
  backoff: 300,
  refusals: 0,
  rendered: new Map(), // block name -> the data it was drawn from
  stopped: false,
};

// -- storage -------------------------------------------------------------------------------

function loadSeat() {
  try {
    return JSON.parse(sessionStorage.getItem(SEAT_KEY) || "null");
  } catch {
    return null;
  }
}
function saveSeat(seat) {
  sessionStorage.setItem(SEAT_KEY, JSON.stringify(seat));
  const remembered = rememberedSeats();
  remembered[seat.code] = { ...seat, saved: Date.now() };
  localStorage.setItem(REMEMBERED_KEY, JSON.stringify(remembered));
}
function forgetSeat() {
  const seat = loadSeat();
  sessionStorage.removeItem(SEAT_KEY);
  if (!seat) return;
  const remembered = rememberedSeats();
  if (remembered[seat.code] && remembered[seat.code].token === seat.token) delete remembered[seat.code];
  localStorage.setItem(REMEMBERED_KEY, JSON.stringify(remembered));
}
/** This browser's id for joins, made once and kept: a browser whose seat the facilitator
 * removed cannot join that session again under another name. */
function deviceId() {
  let device = localStorage.getItem(DEVICE_KEY) || "";
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(device)) {
    const bytes = crypto.getRandomValues(new Uint8Array(18));
    device = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(DEVICE_KEY, device);
  }
  return device;
}

/** This browser's seats of the last REMEMBER_HOURS, by join code. */
function rememberedSeats() {
  let all;
  try {
    all = JSON.parse(localStorage.getItem(REMEMBERED_KEY) || "{}");
  } catch {
    all = {};
  }
  const since = Date.now() - REMEMBER_HOURS * 3600 * 1000;
  const kept = {};
  for (const [code, seat] of Object.entries(all || {})) {
    if (seat && typeof seat.token === "string" && Number(seat.saved) > since) kept[code] = seat;
  }
  return kept;
}
/** The seat a closed tab left: the one in the address's session, else the latest. */
function seatToReturnTo(code) {
  const seats = Object.values(rememberedSeats());
  if (code) return seats.find((seat) => seat.code === code) || null;
  return seats.sort((a, b) => b.saved - a.saved)[0] || null;
}
function codeFromAddress() { return decodeURIComponent(location.hash.slice(1)).replace(/[^A-Za-z0-9]/g, "").toUpperCase().slice(0, 6); }

// -- the connection ------------------------------------------------------------------------

function wsURL(path) { return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path; }

function setConnection(text, down = false) {
  const node = $("connection");
  node.textContent = text;
  node.classList.toggle("down", down);
}

// What the view tells once (an inject on its way or landed, a seat handed to a bot or taken
// back) is shown once, however often the view comes again.
const told = new Set();
function tellOnce(key, text) {
  if (told.has(key)) return;
  told.add(key);
  notice(text);
}

function notice(text) {
  const node = $("notice");
  node.textContent = text;
  node.hidden = !text;
}

/** A notice that goes away by itself after ``ms``, unless another has replaced it. */
function noticeFor(text, ms) {
  notice(text);
  setTimeout(() => $("notice").textContent === text && notice(""), ms);
}

function open(path, protocols, onWelcome) {
  setConnection("Connecting…");
  const ws = new WebSocket(wsURL(path), protocols);
  state.ws = ws;
  let welcomed = false;
  ws.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!welcomed) {
      welcomed = true;
      state.backoff = 300;
      state.refusals = 0;
      setConnection(path === "/v1/join" ? "Joining…" : "Connected");
      if (onWelcome) onWelcome(ws);
    }
    handle(message);
  };
  ws.onclose = (event) => {
    if (state.ws !== ws) return;
    state.ws = null;
    failPending();
    closed(event.code, welcomed, path);
  };
}

function connectSeat() {
  const seat = loadSeat();
  if (!seat) return showJoin("");
  showPlay();
  open("/v1/seat", [PROTOCOL, "token." + seat.token], () => flushUnsent());
}

function closed(code, welcomed, path) {
  if (FINAL[code]) {
    state.stopped = true;
    setConnection("Disconnected", true);
    talkClosed(code === 4003 ? "The session has ended" : code === 4002 ? "This seat is open in another window or tab" : "You are no longer in the session");
    if (code !== 4002) forgetSeat();
    notice(FINAL[code]);
    if (code === 4001) showJoin(FINAL[code]);
    return;
  }
  if (path === "/v1/join" && !loadSeat()) {
    setConnection("Not connected", true);
    joinFailed(code === 1008 ? "Too many join attempts from this address; wait a minute and try again."
      : welcomed ? "The connection dropped before you joined; try again."
        : "The Crossroads server cannot be reached; check your network and try again.");
    return;
  }
  setConnection("Reconnecting…", true);
  const retry = () => setTimeout(connectSeat, state.backoff);
  state.backoff = Math.min(5000, state.backoff * 2);
  if (welcomed || path !== "/v1/seat") return retry();
  // The seat's handshake was refused or the server is down. A browser is not told which, so
  // ask the server for this page: when it answers, the server is up and the token is unknown.
  fetch("/", { cache: "no-store" }).then((answer) => {
    if (answer.ok && ++state.refusals >= 2) {
      forgetSeat();
      showJoin("Your seat is no longer known to the server (the session may have ended, or it was restarted). Join again with the code.");
      setConnection("Not connected", true);
    } else retry();
  }, retry);
}

/** Send a command; false when there is no connection (a choice or an answer then waits for it). */
function send(message) {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    if (message.type === "choose" || message.type === "answer") {
      state.unsent.set(message.type + (message.prompt ?? ""), message);
      notice("Not connected right now; it will be sent as soon as the connection is back.");
    } else if (message.type !== "say") notice("Not connected right now; try again in a moment.");
    return false;
  }
  const id = ++state.refs;
  state.pending.set(id, message);
  ws.send(JSON.stringify({ ...message, id }));
  return true;
}

function flushUnsent() {
  const waiting = [...state.unsent.values()];
  state.unsent.clear();
  waiting.forEach(send);
}

/** The connection dropped with commands unanswered: an answer goes again on reconnect; a
 * message stays in its box, and the person is told. */
function failPending() {
  for (const message of state.pending.values()) {
    if (message.type === "answer") state.unsent.set("answer" + message.prompt, message);
    if (message.type === "say") sayError("The connection dropped before your message was confirmed; it is still in the box.");
  }
  state.pending.clear();
}

// -- what the server says ------------------------------------------------------------------

function handle(message) {
  const sent = message.ref !== undefined ? state.pending.get(message.ref) : undefined;
  if (sent) state.pending.delete(message.ref);
  switch (message.type) {
    case "joined": {
      const seat = { code: $("code").value.trim().toUpperCase(), name: $("name").value.trim(), seat: message.seat, token: message.token };
      saveSeat(seat);
      localStorage.setItem(NAME_KEY, seat.name);
      setConnection("Connected");
      showPlay();
      break;
    }
    case "view": {
      const leftTimeout = state.view && state.view.session.phase === "timeout" && message.view.session.phase !== "timeout";
      state.view = message.view;
      // the time-out is over: what was typed and not yet sent goes now, and counts for it
      if (leftTimeout && sendAnswers()) noticeFor(LATE_ANSWER, 8000);
      state.messages = [...(message.view.messages || [])];
      for (const item of message.view.notices || []) {
        const landed = item.status === "landed" ? "It has landed." : `It lands when round ${item.round} is resolved.`;
        tellOnce(`${item.id}/${item.status}`, `${item.label}. ${item.text || ""} ${landed}`);
      }
      renderAll();
      break;
    }
    case "you":
      state.you = message.you;
      if (message.you.note) tellOnce(`seat/${message.you.note}`, message.you.note);
      renderAll();
      break;
    case "notice":
      notice(message.message);
      break;
    case "ack":
      if (message.you) state.you = message.you;
      if (sent) acknowledged(sent);
      renderAll();
      break;
    case "clock":
      if (state.view) Object.assign(state.view.session, message.session);
      renderStatus();
      break;
    case "progress":
      if (state.view) state.view.progress = { chosen: message.chosen, of: message.of };
      renderBlocks();
      break;
    case "message":
      state.messages.push(message.message);
      $("messages").append(messageItem(message.message));
      scrollMessages();
      break;
    case "error":
      if (sent && sent.type === "join") joinRefused(message);
      else if (sent && sent.type === "say") sayError(message.message);
      else {
        if (sent && sent.type === "answer" && state.posted.get(String(sent.prompt)) === sent.text) state.posted.delete(String(sent.prompt));
        notice(message.message);
        updateAnswerStates();
      }
      break;
  }
}

function acknowledged(sent) {
  // (an answer sent as the time-out ended keeps the notice that says so)
  if (sent.type !== "answer" || (state.view && state.view.session.phase === "timeout")) notice("");
  if (sent.type === "answer" && state.posted.get(String(sent.prompt)) === sent.text) state.acked.set(String(sent.prompt), sent.text);
  if (sent.type === "say") {
    // the message is the server's now: the box empties, unless something else was typed since
    if ($("say").value.trim() === sent.text) $("say").value = "";
    sayError("");
  }
}

// -- joining -------------------------------------------------------------------------------

function showJoin(why) {
  $("join").hidden = false;
  $("play").hidden = true;
  $("join-notice").textContent = why || "";
  const back = why ? null : seatToReturnTo(codeFromAddress());
  $("return").hidden = !back;
  if (back) {
    $("return-text").textContent = `This browser was in session ${back.code} as ${back.name}.`;
    $("return-button").onclick = () => returnTo(back);
  }
  if (!$("code").value) $("code").value = codeFromAddress();
  if (!$("name").value) $("name").value = localStorage.getItem(NAME_KEY) || "";
  $("join-button").disabled = false;
  ($("code").value ? $("name") : $("code")).focus();
  setConnection(why ? "Not connected" : "Not joined yet", Boolean(why));
  if (back) $("return-button").focus();
}

function returnTo(seat) {
  sessionStorage.setItem(SEAT_KEY, JSON.stringify(seat));
  state.stopped = false;
  state.refusals = 0;
  connectSeat();
}

function showPlay() {
  $("join").hidden = true;
  $("play").hidden = false;
}

function joinFailed(text, field = "name") {
  $("join-error").textContent = text;
  $("join-button").disabled = false;
  $(field).focus();
}

/** The server refused the join: say why, with the field to correct focused, and close the join
 * connection (the server would close it later for not joining, and that is not the reason). */
function joinRefused(error) {
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close(1000);
  setConnection("Not joined yet");
  joinFailed(error.message, ["bad_code", "session_ended"].includes(error.code) ? "code" : "name");
}

function submitJoin(event) {
  event.preventDefault();
  const code = $("code").value.trim().toUpperCase();
  const name = $("name").value.trim();
  $("code").value = code;
  if (!/^[A-Z0-9]{6}$/.test(code)) return joinFailed("The join code has 6 letters and digits; it is on the facilitator's screen.", "code");
  if (!name) return joinFailed("Type the name the others will see.");
  $("join-error").textContent = "";
  $("join-button").disabled = true;
  state.stopped = false;
  open("/v1/join", [PROTOCOL], (ws) => {
    const id = ++state.refs;
    state.pending.set(id, { type: "join" });
    ws.send(JSON.stringify({ type: "join", code, name, device: deviceId(), id }));
  });
}

// -- drawing -------------------------------------------------------------------------------

function groupName(group) { return (state.view && state.view.groups[group]) || group; }
function fixed(value) { return Number(value).toFixed(1); }
function signed(value) { return Math.abs(value) < 0.05 ? "0.0" : (value > 0 ? "+" : "") + Number(value).toFixed(1); }
function percent(share) { return Math.round(share * 100) + "%"; }
function grantedWords(share) { return share >= 1 ? "granted" : share <= 0 ? "not granted" : `granted by ${percent(share)} of them`; }

function renderAll() {
  renderStatus();
  renderTalk();
  renderBlocks();
}

function renderStatus() {
  const view = state.view;
  if (!view) return;
  const session = view.session;
  const [title, hint] = PHASES[session.phase] || [session.phase, ""];
  const round = session.round ? `Round ${session.round} of ${session.rounds}` : `${session.rounds} rounds`;
  setText("where", `Organisation ${view.org + 1} · ${view.group_name} · ${round} · ${title}`);
  // #phase-head is a polite live region: written only when the phase changes, it is announced once
  setText("phase-title", title + (session.round && session.phase !== "lobby" ? `, round ${session.round}` : ""));
  setText("hint", hint);
  document.title = `${title} · Crossroads`;
  tick();
}

function setText(id, text) {
  if ($(id).textContent !== text) $(id).textContent = text;
}

function tick() {
  const session = state.view && state.view.session;
  if (!session) return;
  let remaining = null;
  let label = "";
  if (session.paused) {
    remaining = session.remaining;
    label = remaining === null || remaining === undefined ? "paused" : `paused, ${clock(remaining)} left`;
  } else if (session.deadline) {
    remaining = Math.max(0, session.deadline - Date.now() / 1000);
    label = `${clock(remaining)} left`;
  }
  $("clock").hidden = !label;
  $("timer-text").textContent = label;
  const bar = $("timer-bar");
  bar.max = session.duration || 1;
  bar.value = session.duration && remaining !== null ? Math.max(0, session.duration - remaining) : 0;
}

function clock(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Who acts on what the group says, most first: "Duty managers 20%". */
function listeners(weights) {
  return Object.entries(weights || {}).filter(([, w]) => w > 0).sort((a, b) => b[1] - a[1])
    .map(([g, w]) => `${groupName(g)} ${percent(w)}`).join(", ") || "nobody";
}

function renderTalk() {
  const view = state.view;
  if (!view) return;
  const pattern = view.pattern;
  const targets = [view.group, ...pattern.talk_to];
  draw("channels", [pattern, view.groups], () => [
    el("dt", {}, "Structure"), el("dd", {}, pattern.label, pattern.earned ? ` (changed ${pattern.earned}× in play)` : ""),
    el("dt", {}, "You can talk to"), el("dd", {}, [groupName(view.group) + " (your group)", ...pattern.talk_to.map(groupName)].join(", ")),
    el("dt", {}, "Acts on what you say"), el("dd", {}, listeners(pattern.heard_by)),
    el("dt", {}, "You hear from"), el("dd", {}, pattern.hear_from.map(groupName).join(", ") || "nobody outside your group"),
    el("dt", {}, "Closed to you"), el("dd", {}, pattern.closed_to.map(groupName).join(", ") || "none"),
  ], $("channels"));
  draw("to", targets, () => targets.map((g) => el("option", { value: g }, groupName(g) + (g === view.group ? " (your group)" : ""))), $("to"));
  draw("messages", [view.session.code, view.messages], () => state.messages.map(messageItem), $("messages"));
  const phase = view.session.phase;
  if (TALK_PHASES.includes(phase)) talkOpen();
  else talkClosed(CLOSED_TALK[phase] || "Talk is closed for now");
  scrollMessages();
}

function talkOpen() {
  $("say").disabled = $("say-button").disabled = false;
  $("say").placeholder = "Say something to the group you pick";
}

function talkClosed(why) {
  $("say").disabled = $("say-button").disabled = true;
  $("say").placeholder = why;
}

function sayError(text) { $("say-error").textContent = text; }

function submitSay(event) {
  event.preventDefault();
  const text = $("say").value.trim();
  if (!text) return;
  // the text stays in the box until the server has taken it (or says why not)
  if ([...state.pending.values()].some((m) => m.type === "say" && m.text === text)) return;
  sayError("");
  if (!send({ type: "say", to: $("to").value, text })) sayError("Not connected right now; your message is still in the box. Send it again once the connection is back.");
}

function messageItem(message) {
  const route = ` (${groupName(message.from)} → ${groupName(message.to)})`;
  let text = message.text;
  if (message.request !== undefined) text = message.request ? `asks: ${message.label}` : `withdraws the request: ${message.label || ""}`;
  // a request from a group nobody holds is its bot's: name the group
  return el("li", {}, el("strong", {}, message.name || groupName(message.from)), el("span", { class: "route" }, route), ": ", text);
}

function scrollMessages() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

/** Redraw one part only when its data changed, so typing, focus and selections survive updates. */
function draw(name, data, build, into) {
  const key = JSON.stringify(data);
  if (state.rendered.get(name) === key && into.isConnected) return false;
  state.rendered.set(name, key);
  const focused = document.activeElement && into.contains(document.activeElement) ? document.activeElement.id : "";
  into.replaceChildren(...build());
  if (focused && $(focused)) $(focused).focus();
  return true;
}

function block(name) {
  let node = $("block-" + name);
  if (!node) node = el("div", { id: "block-" + name });
  return node;
}

function renderBlocks() {
  const view = state.view;
  if (!view) return;
  const phase = view.session.phase;
  const parts = [];
  const add = (name, data, build) => {
    const node = block(name);
    draw(name, data, build, node);
    parts.push(node);
  };
  if (phase === "lobby") add("lobby", [view.roster, view.group_name, view.brief], lobby);
  if (["brief", "talk", "choose"].includes(phase)) add("card", [view.card, view.brief], card);
  if (phase === "choose") add("choose", [view.card, view.requests, view.session.round, state.you && state.you.choice], choose);
  if (phase === "choose") add("progress", [view.progress], () => [el("p", { role: "status" }, `${view.progress.chosen} of ${view.progress.of} have chosen.`)]);
  if (["talk", "choose"].includes(phase)) add("ask", [view.askable, view.requests, state.you && state.you.name, view.session.round], ask);
  if (phase === "talk") add("asked", [view.requests, view.group], askedOfUs);
  if (phase === "reveal") add("reveal", [view.changes, view.shifts, view.requests], reveal);
  if (["brief", "talk", "choose", "reveal", "timeout"].includes(phase)) add("metrics", [view.metrics, view.changes], metrics);
  // the answers' boxes are drawn once per time-out (typing is never redrawn over); their states follow
  if (phase === "timeout") add("timeout", [view.prompts, view.session.round], timeout);
  if (phase === "debrief" || phase === "ended") add("debrief", [view.debrief, view.metrics], debrief);
  const blocks = $("blocks");
  if (parts.length !== blocks.children.length || parts.some((p, i) => blocks.children[i] !== p)) blocks.replaceChildren(...parts);
  if (phase === "timeout") updateAnswerStates();
}

function paragraphs(text) {
  return String(text || "").split(/\n\s*\n/).map((p) => p.split(/\s+/).join(" ").trim()).filter(Boolean).map((p) => el("p", {}, p));
}

function lobby() {
  const view = state.view;
  return [
    el("h2", {}, "Your group: " + view.group_name),
    ...paragraphs(view.brief),
    el("h2", {}, "Who is here"),
    el("ul", {}, Object.entries(view.roster).map(([g, names]) => el("li", {}, `${groupName(g)}: `, names.join(", ") || "bots"))),
  ];
}

function card() {
  const view = state.view;
  const parts = [el("h2", {}, "Your group: " + view.group_name), ...paragraphs(view.brief)];
  if (view.card) parts.push(el("div", { class: "card" }, el("h2", {}, view.card.title), view.card.text.flatMap(paragraphs)));
  return parts;
}

function myRequest(to) {
  const name = state.you && state.you.name;
  return state.view.requests.find((r) => r.from === state.view.group && r.to === to && (r.names || []).includes(name));
}

function ask() {
  const view = state.view;
  const groups = Object.keys(view.askable || {});
  if (!groups.length) return [el("h2", {}, "Requests"), el("p", { class: "muted" }, "No group you can reach has options to ask for this round.")];
  const parts = [el("h2", {}, "Ask another group")];
  for (const group of groups) {
    const id = "ask-" + group;
    const mine = myRequest(group);
    const current = $(id) ? $(id).value : mine && mine.option;
    // nothing is picked until the person picks: one tap must not ask for the first option
    const select = el("select", { id, "aria-describedby": "ask-error-" + group }, el("option", { value: "", selected: !current }, "Choose what to ask…"),
      view.askable[group].map((o) => el("option", { value: o.id, selected: current === o.id }, o.label)));
    const error = el("p", { class: "error", id: "ask-error-" + group, role: "alert" });
    select.addEventListener("change", () => { error.textContent = ""; });
    const form = el("form", { class: "ask", novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      if (!select.value) {
        error.textContent = `Choose what to ask ${groupName(group)} for first.`;
        return select.focus();
      }
      error.textContent = "";
      send({ type: "request", round: view.session.round, to: group, option: select.value });
    } },
    el("p", {}, el("label", { for: id }, `Ask ${groupName(group)} to`), select),
    el("p", { class: "actions" },
      el("button", { type: "submit", id: "ask-send-" + group }, mine ? "Change request" : "Ask"),
      mine ? el("button", { type: "button", class: "secondary", id: "ask-withdraw-" + group,
        onclick: () => send({ type: "request", round: view.session.round, to: group, option: "" }) }, "Withdraw") : null),
    error);
    parts.push(form);
    if (mine) parts.push(el("p", { role: "status" }, `Your request to ${groupName(group)}: ${mine.label}`));
  }
  return parts;
}

function requestLine(r) {
  const who = r.names && r.names.length ? ` (${r.names.join(", ")})` : "";
  const granted = r.granted !== undefined ? ` — ${grantedWords(r.granted)}` : "";
  return `${groupName(r.from)}${who} asked ${groupName(r.to)}: ${r.label}${granted}`;
}

function askedOfUs() {
  const view = state.view;
  const ours = view.requests.filter((r) => r.to === view.group);
  return [el("h2", {}, "Asked of your group"),
    ours.length ? el("ul", {}, ours.map((r) => el("li", {}, requestLine(r)))) : el("p", { class: "muted" }, "Nobody has asked your group for anything this round.")];
}

function choose() {
  const view = state.view;
  const options = (view.card && view.card.options) || [];
  if (!options.length) return [el("p", { class: "muted" }, "Your group has no choice to make on this card.")];
  const picked = document.querySelector("#choose-form input[name=option]:checked");
  const chosen = picked ? picked.value : state.you && state.you.choice;
  const items = options.map((o, i) => {
    const id = "option-" + i;
    const asks = view.requests.filter((r) => r.to === view.group && r.option === o.id);
    return el("div", { class: "option" },
      el("input", { type: "radio", name: "option", id, value: o.id, checked: chosen ? chosen === o.id : false }),
      el("label", { for: id }, o.label, o.default ? " (stands if you do not choose)" : ""),
      o.description ? el("p", { class: "detail muted" }, o.description) : null,
      ...asks.map((r) => el("p", { class: "asked" }, `Asked for by ${groupName(r.from)}${r.names && r.names.length ? " (" + r.names.join(", ") + ")" : ""}`)));
  });
  const form = el("form", { id: "choose-form", novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    const picked = form.querySelector("input[name=option]:checked");
    if (!picked) return notice("Pick an option first.");
    send({ type: "choose", round: view.session.round, option: picked.value });
  } },
  el("fieldset", {}, el("legend", {}, "Your choice"), items),
  el("p", {}, el("button", { type: "submit", id: "choose-button" }, "Confirm my choice")));
  const label = options.find((o) => o.id === (state.you && state.you.choice));
  const status = el("p", { role: "status", id: "choice-status", class: label ? "good" : "" },
    label ? `Your choice is recorded: ${label.label}. You can change it until the timer ends.` : "You have not chosen yet.");
  return [form, status];
}

function reveal() {
  const view = state.view;
  const parts = [el("h2", {}, "What changed, and why")];
  parts.push(view.changes.length ? el("ul", {}, view.changes.map((c) => {
    const late = c.decided && c.decided !== c.round ? `, decided in round ${c.decided}` : "";
    return el("li", {}, el("strong", {}, `${signed(c.delta)} ${c.label}`), ` [${LEVERS[c.lever] || c.lever}${late}] `, c.explain);
  })) : el("p", { class: "muted" }, "No change you can see this round."));
  if (view.shifts && view.shifts.length) {
    parts.push(el("h2", {}, "How the structure changed"),
      el("ul", {}, view.shifts.map((s) => el("li", {}, el("strong", {}, s.text), s.explain ? ". " + s.explain : ""))));
  }
  if (view.requests && view.requests.length) {
    parts.push(el("h2", {}, "Requests this round"), el("ul", {}, view.requests.map((r) => el("li", {}, requestLine(r)))));
  }
  return parts;
}

function metrics() {
  const view = state.view;
  const changes = {};
  for (const c of view.changes || []) changes[c.metric] = (changes[c.metric] || 0) + c.delta;
  const rows = Object.entries(view.metrics).map(([name, m]) => {
    const delta = changes[name] || 0;
    const good = (delta > 0) === ((m.better || "higher") === "higher");
    return el("tr", {}, el("th", { scope: "row" }, m.label), el("td", { class: "num" }, fixed(m.value)),
      el("td", { class: "num " + (Math.abs(delta) < 0.05 ? "" : good ? "good" : "bad") }, signed(delta)),
      el("td", {}, (m.trend || []).map((v) => Math.round(v)).join(" → ")));
  });
  if (!rows.length) return [];
  return [el("div", { class: "table-wrap" }, el("table", {}, el("caption", {}, "What your group can see"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Metric"), el("th", { scope: "col", class: "num" }, "Now"),
      el("th", { scope: "col", class: "num" }, "Last change"), el("th", { scope: "col" }, "Over the rounds"))),
    el("tbody", {}, rows)))];
}

// Time-out answers are sent as they are typed, as the terminal app sends them: a second after
// typing stops (at least every few seconds of steady typing), on leaving the box, with "Save
// answer", and as the phase moves on (the server keeps an answer sent in the phase right after
// a time-out for that time-out), so nothing typed is lost when the facilitator advances.
const ANSWER_PAUSE = 1000;
const LATE_ANSWER = "The time-out ended as you typed; your answer was sent all the same.";
const ANSWER_AT_LEAST = 4000;

function timeout() {
  const view = state.view;
  if (state.answerRound !== view.session.round) {
    for (const timer of state.answerTimers.values()) clearTimeout(timer);
    for (const map of [state.answers, state.posted, state.acked, state.answerTimers, state.firstUnsent]) map.clear();
    state.answerRound = view.session.round;
  }
  const prompts = view.prompts || [];
  if (!prompts.length) return [el("p", {}, "No prompts for your group this time.")];
  const recorded = (state.you && state.you.answers) || {};
  return prompts.map((prompt, i) => {
    const key = String(i);
    const area = el("textarea", { id: "answer-" + i, maxLength: 2000, "aria-describedby": "answer-state-" + i,
      value: state.answers.get(key) ?? recorded[key] ?? "", oninput: () => typed(i, area.value), onblur: () => sendAnswer(i) });
    return el("form", { class: "prompt", novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      sendAnswer(i);
    } },
    el("label", { for: "answer-" + i }, prompt), area,
    el("p", {}, el("button", { type: "submit", id: "save-" + i }, "Save answer"), " ",
      el("span", { role: "status", id: "answer-state-" + i })));
  });
}

function typed(prompt, text) {
  const key = String(prompt);
  state.answers.set(key, text);
  clearTimeout(state.answerTimers.get(key));
  if (!state.firstUnsent.has(key)) state.firstUnsent.set(key, Date.now());
  if (Date.now() - state.firstUnsent.get(key) >= ANSWER_AT_LEAST) sendAnswer(prompt);
  else state.answerTimers.set(key, setTimeout(() => sendAnswer(prompt), ANSWER_PAUSE));
  updateAnswerStates();
}

/** Send one answer if it changed since it was last sent; true when it went (or waits for the link). */
function sendAnswer(prompt) {
  const key = String(prompt);
  clearTimeout(state.answerTimers.get(key));
  state.answerTimers.delete(key);
  state.firstUnsent.delete(key);
  const text = state.answers.get(key);
  if (text === undefined || text === state.posted.get(key)) return false;
  if (!text.trim() && !state.posted.has(key)) return false;
  state.posted.set(key, text);
  send({ type: "answer", prompt, text });
  updateAnswerStates();
  return true;
}

function sendAnswers() {
  let sent = false;
  for (const key of state.answers.keys()) sent = sendAnswer(Number(key)) || sent;
  return sent;
}

/** Each answer's state beside it: saved, on its way, or not sent yet. */
function updateAnswerStates() {
  const recorded = (state.you && state.you.answers) || {};
  const prompts = (state.view && state.view.prompts) || [];
  for (let i = 0; i < prompts.length; i++) {
    const key = String(i);
    const area = $("answer-" + i);
    const status = $("answer-state-" + i);
    if (!area || !status) continue;
    // an answer the server has (after a reconnect, say) fills a box nobody has typed in
    if (!state.answers.has(key) && recorded[key] !== undefined) {
      area.value = recorded[key];
      for (const map of [state.answers, state.posted, state.acked]) map.set(key, recorded[key]);
    }
    const text = state.answers.get(key) ?? "";
    let line = "";
    if (state.acked.get(key) === text) line = text.trim() ? "Saved." : "";
    else if (state.posted.get(key) === text) line = "Saving…";
    else if (text.trim() || state.acked.has(key)) line = "Not saved yet.";
    status.className = line === "Saved." ? "answer-saved" : line ? "answer-unsaved" : "";
    if (status.textContent !== line) status.textContent = line;
  }
}

// -- the debrief ---------------------------------------------------------------------------

// The charts are drawn by the small function below as inline SVG: a line chart of a few
// series needs no library, and a library would cost more than this whole page's budget of
// 150 KB and load code the page does not control.
function lineChart(title, series, low, high) {
  const W = 480, H = 200, L = 36, R = 8, T = 8, B = 24;
  const n = Math.max(...series.map((s) => s.values.length), 2);
  const x = (i) => L + (i * (W - L - R)) / (n - 1);
  const y = (v) => T + (1 - (v - low) / (high - low || 1)) * (H - T - B);
  const svg = (tag, attrs, ...kids) => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    node.append(...kids);
    return node;
  };
  const summary = series.map((s) => `${s.label}: ${s.values.map((v) => Math.round(v)).join(", ")}`).join("; ");
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}, after each round. ${summary}` });
  for (const v of [low, (low + high) / 2, high]) {
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#c5ccd3" }),
      svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" }, String(Math.round(v))));
  }
  for (let i = 0; i < n; i++) chart.append(svg("text", { x: x(i), y: H - 6, "text-anchor": "middle" }, i === 0 ? "start" : `R${i}`));
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points, fill: "none", class: "c" + (k % 5), "stroke-width": 2.5, "stroke-dasharray": ["", "6 3", "2 3", "8 3 2 3", "1 1"][k % 5] }));
  });
  const legend = el("ul", { class: "legend" }, series.map((s, k) => el("li", {}, el("span", { class: "swatch c" + (k % 5), "aria-hidden": "true" }), s.label)));
  return el("figure", {}, el("figcaption", {}, title), chart, legend);
}

function table(caption, head, rows) {
  return el("div", { class: "table-wrap" }, el("table", {}, el("caption", {}, caption),
    el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { scope: "col", class: i ? "num" : "" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) => (i ? el("td", { class: "num" }, c) : el("th", { scope: "row" }, c))))))));
}

function debrief() {
  const d = state.view.debrief;
  const story = d && d.story;
  if (!story) return [el("p", {}, "The debrief is being prepared…")];
  // the story tells it in the deck's own names, as the terminal app and the projector tell it
  const orgs = story.orgs;
  const metrics = Object.entries(story.metrics);
  const parts = [];
  const withCf = orgs.filter((o) => o.counterfactuals.length);
  if (withCf.length) {
    parts.push(el("h2", {}, "What another structure would have done"),
      el("p", {}, `Each cell reads ${story.legend.actual} / what the column's case would have given (the difference).`));
    for (const o of withCf) {
      parts.push(table(o.title, ["Metric", ...o.counterfactuals.map((c) => c.legend)], metrics.map(([name, m]) =>
        [m.label, ...o.counterfactuals.map((c) => {
          const cell = c.metrics[name];
          return `${Math.round(cell.actual)} / ${Math.round(cell.alternative)} (${signed(cell.difference)})`;
        })])));
    }
  }
  parts.push(el("h2", {}, "Where each organisation ended"),
    table("Start → end", ["Metric", ...orgs.map((o) => o.title)], metrics.map(([name, m]) =>
      [m.label, ...orgs.map((o) => `${Math.round(o.series[name][0])} → ${Math.round(o.series[name].at(-1))}`)])));
  const rounds = Math.max(0, ...orgs.map((o) => o.rounds.length));
  parts.push(el("h2", {}, "The structure of each organisation in each round"),
    el("div", { class: "table-wrap" }, el("table", {},
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Round"), orgs.map((o) => el("th", { scope: "col" }, o.label)))),
      el("tbody", {}, Array.from({ length: rounds }, (_, n) => el("tr", {}, el("th", { scope: "row" }, String(n + 1)), orgs.map((o) => {
        const r = o.rounds[n];
        if (!r) return el("td", {});
        return el("td", {}, r.pattern_label, r.switched ? " (switched by the facilitator)" : "", r.earned.flatMap((text) => [el("br"), `+ ${text}`]));
      })))))),
    el("p", { class: "muted" }, "+ a change the players made; it holds from the next round on."));
  for (const [name, m] of metrics) {
    const title = `${m.label} over the rounds` + (m.better === "lower" ? " (lower is better)" : "");
    const values = orgs.flatMap((o) => o.series[name]);
    const [low, high] = m.bounds || [Math.min(...values), Math.max(...values)];
    parts.push(el("h2", {}, m.label), lineChart(title, orgs.map((o) => ({ label: o.title, values: o.series[name] })), low, high),
      table(`${m.label}: change by lever`, ["Lever", ...orgs.map((o) => o.label)], Object.entries(story.levers).map(([lever, label]) =>
        [label, ...orgs.map((o) => signed((o.by_lever[name] || {})[lever] || 0))])));
  }
  parts.push(el("h2", {}, "Round by round: choices and requests"));
  for (const o of orgs) {
    parts.push(el("h3", {}, o.title), el("ol", { class: "timeline" }, o.rounds.map((r) => el("li", {},
      el("strong", {}, `Round ${r.round}: ${r.card}`), ` (${r.pattern_label})`,
      el("ul", {},
        Object.entries(r.choices).map(([g, picks]) => el("li", {}, `${story.groups[g] || g} chose `, picks.map((c) => `${c.label} (${c.count})`).join("; "))),
        r.requests.map((q) => el("li", {}, `${q.from_name} asked ${q.to_name} to “${q.label}”: ${grantedWords(q.granted)}`)),
        r.injects.map((label) => el("li", {}, `Event: ${label}`)),
        r.earned.map((text) => el("li", {}, `Structure changed: ${text}`)))))));
  }
  parts.push(el("h2", {}, "Conversations"), el("ul", {}, orgs.map((o) => el("li", {}, el("strong", {}, o.title), ": ",
    Object.entries(o.channels).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ") || "no messages",
    o.silent.length ? `; silent: ${o.silent.join(", ")}` : ""))));
  parts.push(el("h2", {}, "Time-out answers"), story.answers.length
    ? el("ul", {}, story.answers.map((a) => el("li", {},
      // a name only when the facilitator showed names
      el("strong", {}, `${a.name ? a.name + ", " : ""}${a.group_name}, organisation ${a.org + 1}, round ${a.round}`), ": ",
      a.prompt ? `${a.prompt} — ` : "", a.text)))
    : el("p", { class: "muted" }, "No answers are shown yet: the facilitator picks which to show."));
  if (story.questions.length) parts.push(el("h2", {}, "Questions for the room"), el("ul", {}, story.questions.map((q) => el("li", {}, q))));
  return parts;
}

// -- start ---------------------------------------------------------------------------------

function start() {
  $("join-form").addEventListener("submit", submitJoin);
  $("say-form").addEventListener("submit", submitSay);
  addEventListener("pagehide", () => sendAnswers());
  setInterval(tick, 1000);
  const seat = loadSeat();
  const code = codeFromAddress();
  if (seat && (!code || code === seat.code)) connectSeat();
  else {
    if (seat) sessionStorage.removeItem(SEAT_KEY); // the address names another session; the seat stays remembered
    showJoin("");
  }
}

start();
