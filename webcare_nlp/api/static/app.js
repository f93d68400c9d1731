// The agents' page: paste a message, see the analysis, take a suggestion. No framework, no CDN.
"use strict";

const INTENT = {
  question: "Vraag", complaint: "Klacht", request: "Verzoek",
  compliment: "Compliment", feedback: "Idee of suggestie", other: "Overig (geen klantvraag)",
};
const SENTIMENT = { negative: "Negatief", neutral: "Neutraal", positive: "Positief" };
const LANGUAGE = { nl: "Nederlands", en: "Engels", de: "Duits", fr: "Frans", es: "Spaans", tr: "Turks", ar: "Arabisch" };
const ENTITY = {
  phone: "telefoonnummer", email: "e-mailadres", iban: "IBAN", bsn: "BSN", postcode: "postcode",
  order_number: "ordernummer", booking_code: "boekingscode", customer_number: "klantnummer",
  policy_number: "polisnummer", tracking_code: "track-and-trace-code",
};
// The server's placeholder syntax (rank/library.py): lower case, letters, digits and _ in single braces.
const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;

const $ = (id) => document.getElementById(id);
const state = { message: null, result: null, cards: [], canSuggest: true, always: false };

// -- settings the agent keeps in this browser ------------------------------------------------------
for (const [id, key] of [["agent-name", "wc-agent"], ["agent-initials", "wc-initials"]]) {
  $(id).value = localStorage.getItem(key) || "";
  $(id).addEventListener("input", () => {
    localStorage.setItem(key, $(id).value.trim());
    state.cards.forEach(refreshCard);
  });
}
$("api-token").value = sessionStorage.getItem("wc-token") || "";
$("api-token").addEventListener("input", () => sessionStorage.setItem("wc-token", $("api-token").value.trim()));

function initials() {
  return $("agent-initials").value.trim().replace(/^\^/, "");
}

// -- talking to the API ----------------------------------------------------------------------------
const UNREACHABLE = "De server is niet bereikbaar: controleer de verbinding of start de server opnieuw.";

async function api(path, body) {
  const headers = { "Content-Type": "application/json" };
  const token = $("api-token").value.trim();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });
  } catch (_) {
    // fetch only rejects when no answer came at all (server down, network gone): never show its English words.
    setStatus("server niet bereikbaar", "bad");
    const error = new Error(UNREACHABLE);
    error.unreachable = true;
    throw error;
  }
  // An answer again after a failure: look the server up anew so the pill turns green.
  if (state.offline && path !== "/health") checkHealth();
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (response.status === 401) {
    $("token-box").hidden = false;
    $("api-token").focus();
    const error = new Error(token
      ? "De server accepteert deze API-sleutel niet: controleer de sleutel rechtsboven."
      : "Deze server vraagt een API-sleutel: vul hem rechtsboven in.");
    error.status = 401;
    throw error;
  }
  if (!response.ok) {
    const error = new Error(serverError(response.status, data));
    error.status = response.status;
    throw error;
  }
  return data;
}

function setStatus(text, kind) {
  state.offline = kind === "bad";
  $("status").textContent = text;
  $("status").className = `status ${kind}`;
}

// The server's error answers are English: the common ones in Dutch, the rest behind a Dutch lead.
function serverError(status, data) {
  const raw = (data && (data.error || (typeof data.detail === "string" ? data.detail : null))) || "";
  const limit = Number($("text").maxLength || 20000).toLocaleString("nl-NL");
  if (status === 422 || status === 400) {
    const fields = Array.isArray(data && data.detail) ? data.detail : [];
    const about = (pattern) => pattern.test(raw) || fields.some((d) => pattern.test(`${d.type || ""} ${d.msg || ""}`));
    if (about(/string_too_long|at most \d+ characters|the limit is/i)) {
      return `Het bericht is te lang: de server neemt maximaal ${limit} tekens aan. Kort het bericht in.`;
    }
    if (about(/empty|whitespace|string_too_short|at least 1 character/i)) {
      return "Het bericht is leeg: plak eerst de tekst van de klant.";
    }
    if (about(/binary|control (bytes|characters)|\bNUL\b|not valid UTF-8|utf-8/i)) {
      return "Het bericht bevat binaire gegevens of stuurtekens: plak alleen gewone tekst.";
    }
  }
  if (status === 413) return `Het bericht is te groot voor de server (maximaal ${limit} tekens).`;
  if (status === 429) return "De server krijgt te veel verzoeken: probeer het zo opnieuw.";
  if (status === 503) return `De server kan het verzoek nu niet afhandelen${raw ? ` (${raw})` : ""}: probeer het zo opnieuw.`;
  if (status >= 500) return `Er ging iets mis op de server (${status})${raw ? `: ${raw}` : "."}`;
  return raw ? `De server weigert het bericht: ${raw}` : `De server antwoordde met ${status}.`;
}

async function checkHealth() {
  try {
    const health = await api("/health");
    state.canSuggest = health.suggestions;
    $("token-box").hidden = !health.token_required;
    // An empty field signs with the server's initials: show them rather than an example.
    $("agent-initials").placeholder = health.agent_initials ? `^${health.agent_initials}` : "^IB";
    setStatus(`model ${health.model || "?"}`, "ok");
  } catch (error) {
    if (error.status === 401) setStatus("API-sleutel nodig", "bad");
    else setStatus("server niet bereikbaar", "bad");
  }
}

function readForm() {
  const message = { id: `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`, text: $("text").value };
  for (const field of ["channel", "platform", "author", "company"]) {
    const value = $(field).value.trim();
    if (value) message[field] = value;
  }
  // The agent's own signature wins over the server's default.
  if (initials()) message.initials = initials();
  return message;
}

async function analyze(always = false) {
  const message = readForm();
  if (!message.text.trim()) {
    clearResults();
    showError("Plak eerst het bericht van de klant.");
    $("text").focus();
    return;
  }
  showError(null);
  $("analyze").disabled = true;
  $("analyze").classList.add("busy");
  state.always = always;
  performance.clearMarks();
  performance.clearMeasures();
  performance.mark("wc-request");
  try {
    let result;
    let note = null;
    if (state.canSuggest) {
      try {
        result = await api("/suggest", { ...message, top_k: 3, always });
      } catch (error) {
        if (!(error.status >= 500)) throw error;  // a failing ranker must not hide the analysis
        note = `Suggesties niet beschikbaar: ${error.message}`;
      }
    }
    if (!result) result = await api("/analyze", message);
    performance.mark("wc-response");
    state.message = message;
    state.result = result;
    render(result, note);
    performance.mark("wc-dom");
    // The figure the browser test reports: from the parsed response to the next painted frame.
    requestAnimationFrame(() => setTimeout(() => {
      performance.mark("wc-rendered");
      const render = performance.measure("wc-render", "wc-response", "wc-rendered");
      const dom = performance.measure("wc-dom-build", "wc-response", "wc-dom");
      document.body.dataset.domMs = dom.duration.toFixed(2);
      const total = performance.measure("wc-total", "wc-request", "wc-rendered");
      $("timing").textContent = `antwoord + weergave ${total.duration.toFixed(0)} ms (weergave ${render.duration.toFixed(1)} ms)`;
      document.body.dataset.renderMs = render.duration.toFixed(2);
    }, 0));
  } catch (error) {
    clearResults();  // what is shown must belong to the message in the box, or be nothing
    showError(error.message);
  } finally {
    $("analyze").disabled = false;
    $("analyze").classList.remove("busy");
  }
}

function clearResults() {
  state.result = null;
  state.cards = [];
  $("cards").replaceChildren();
  $("analysis").hidden = true;
  $("suggestions").hidden = true;
}

function showError(text) {
  $("error").hidden = !text;
  $("error").textContent = text || "";
}

// -- analysis --------------------------------------------------------------------------------------
function render(result, note) {
  renderAnalysis(result);
  renderSuggestions(result, note);
  // Leave the text box so that the keys 1-9 pick a suggestion straight away.
  $("text").blur();
  $("analysis").focus?.();
}

function badge(text, kind) {
  const span = document.createElement("span");
  span.className = `badge ${kind || ""}`;
  span.textContent = text;
  return span;
}

function percent(p) {
  return `${Math.round(p * 100)}%`;
}

function renderAnalysis(r) {
  $("analysis").hidden = false;
  const verdict = $("verdict");
  verdict.replaceChildren();
  verdict.className = `verdict ${r.reply_expected ? "yes" : "no"}`;
  const head = document.createElement("strong");
  head.textContent = r.reply_expected ? "Reactie verwacht" : "Geen reactie nodig";
  const why = document.createElement("span");
  why.textContent = dutchReason(r);
  why.title = r.reply_reason;  // the engine's own (English) reason, on hover
  verdict.append(head, why);
  if (r.needs_review) verdict.append(badge("twijfelgeval: kijk zelf even mee", "warn"));

  $("intent").replaceChildren(badge(INTENT[r.intent] || r.intent, `intent-${r.intent}`),
    document.createTextNode(` ${percent(r.intent_scores[r.intent] || 0)}`));
  $("sentiment").replaceChildren(badge(SENTIMENT[r.sentiment] || r.sentiment, `sentiment-${r.sentiment}`),
    document.createTextNode(` ${percent(r.sentiment_scores[r.sentiment] || 0)}`));
  $("lang").textContent = LANGUAGE[r.lang] || r.lang || "onbekend";
  $("topic").textContent = r.topic_label || r.topic || "–";
  $("topic").title = r.topic ? r.topic : "Geen bekend onderwerp (of nog geen onderwerpmodel).";
  $("platform-out").textContent = `${r.platform === "brand" ? "eigen kanaal" : "kanaal van de klant"}${r.platform_inferred ? " (afgeleid)" : ""}`;

  const found = r.entities || [];
  $("entities").replaceChildren(...(found.length
    ? [...new Set(found.map((e) => e.kind))].map((kind) => badge(ENTITY[kind] || kind, "pii"))
    : [document.createTextNode("Geen persoonsgegevens gevonden.")]));
  $("masked").replaceChildren(...highlight(r.masked_text || "", "masked-ph"));
  $("masked").hidden = !found.length;

  // The model's own intents (a team model has its own, such as order_status), named in Dutch where known.
  const intents = Object.fromEntries(Object.keys(r.intent_scores || INTENT).map((k) => [k, INTENT[k] || k]));
  fillSelect($("fix-intent"), intents, r.intent);
  fillSelect($("fix-sentiment"), SENTIMENT, r.sentiment);
  $("fix-reply").value = "";
}

function dutchReason(r) {
  if (r.intent === "other") return "Geen klantvraag (spam of niet gericht aan het bedrijf).";
  const who = r.reactive ? "De klant zoekt contact" : "De klant spreekt het bedrijf niet aan";
  const where = r.platform === "brand" ? "op jullie eigen kanaal" : "op een kanaal van de klant";
  const inferred = r.platform_inferred ? " (afgeleid)" : "";
  return `${who} ${where}${inferred}, dus ${r.reply_expected ? "reageren" : "niet reageren"}.`;
}

// The server sends each suggestion's reasons as data (why_parts, advice_parts); the English `why` is the
// fallback for a server without them.
const CHANNEL_NAME = {
  twitter: "X/Twitter", instagram: "Instagram", facebook: "Facebook", messenger: "Messenger", whatsapp: "WhatsApp",
  review: "een reviewsite", forum: "een forum", blog_comment: "een blogreactie", email: "e-mail", other: "dit kanaal",
};
const ONE_TO_ONE = new Set(["whatsapp", "messenger", "email"]);

function dutchWhy(s) {
  const parts = s.why_parts ? s.why_parts.map(dutchPart) : (s.why ? [s.why] : []);
  let text = parts.length ? `Waarom: ${parts.join("; ")}` : (s.why_parts ? "Waarom: de beste overeenkomst in de bibliotheek" : "");
  const fit = s.advice_parts;
  if (fit) {
    text += ` · ${fit.length} tekens, meer dan de ${fit.limit} van ${CHANNEL_NAME[fit.channel] || fit.channel}: `;
    if (ONE_TO_ONE.has(fit.channel)) {
      text += fit.link ? `maak het korter of stuur de link ${fit.link}` : "maak het korter of splits het";
    } else {
      text += `stuur het als ${fit.where || "privébericht"}`;
      text += fit.link ? ` of antwoord kort met de link ${fit.link}` : " of maak het korter";
    }
  } else if (s.advice) {
    text += ` · ${s.advice}`;
  }
  return text;
}

function dutchPart(part) {
  switch (part.reason) {
    case "intent": return `past bij ${(INTENT[part.intent] || part.intent).toLowerCase()}`;
    case "terms": return `deelt ${part.terms.join(", ")}`;
    case "history": return `gestuurd bij ${part.count} ${part.count === 1 ? "vergelijkbaar bericht" : "vergelijkbare berichten"}, bv. "${part.example}"`;
    case "uses": return `${part.count}x eerder gebruikt`;
    case "company": return `eigen tekst van ${part.company}`;
    default: return "";
  }
}

function fillSelect(select, labels, predicted) {
  select.replaceChildren(...Object.entries(labels).map(([value, text]) => {
    const option = document.createElement("option");
    option.value = value === predicted ? "" : value;
    option.textContent = value === predicted ? `${text} (voorspeld)` : text;
    return option;
  }));
  select.value = "";
}

function corrections() {
  const labels = {};
  if ($("fix-intent").value) labels.intent = $("fix-intent").value;
  if ($("fix-sentiment").value) labels.sentiment = $("fix-sentiment").value;
  if ($("fix-reply").value) labels.reply_expected = $("fix-reply").value === "true";
  return Object.keys(labels).length ? labels : null;
}

// Text with {placeholders} as highlighted <mark>s.
function highlight(text, className) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    const mark = document.createElement("mark");
    mark.className = className;
    mark.textContent = match[0];
    nodes.push(mark);
    last = match.index + match[0].length;
  }
  nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

// -- suggestion cards ------------------------------------------------------------------------------
function renderSuggestions(r, note) {
  const list = $("cards");
  list.replaceChildren();
  state.cards = [];
  $("suggestions").hidden = false;
  const suggestions = r.suggestions || [];
  let text = note;
  if (!text && !state.canSuggest) text = "Suggesties zijn niet beschikbaar: dit model heeft nog geen rangschikker.";
  if (!text && !suggestions.length) {
    text = r.reply_expected ? "Geen passende suggestie gevonden: schrijf zelf een persoonlijk antwoord." : "Geen reactie nodig, dus geen suggesties.";
  }
  $("suggestions-note").hidden = !text;
  $("suggestions-note").replaceChildren(document.createTextNode(text || ""));
  if (!r.reply_expected && !state.always && state.canSuggest && !note) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Toch suggesties tonen";
    button.addEventListener("click", () => analyze(true));
    $("suggestions-note").append(" ", button);
  }
  suggestions.forEach((s, i) => list.append(buildCard(s, i)));
}

function buildCard(suggestion, index) {
  const node = $("card-template").content.firstElementChild.cloneNode(true);
  const card = { suggestion, node, values: {}, edited: null, done: false };
  node.dataset.id = suggestion.id;
  node.querySelector(".key").textContent = index < 9 ? String(index + 1) : "";
  node.querySelector(".kind").textContent = suggestion.kind === "article" ? "Artikel" : "Sjabloon";
  node.querySelector(".kind").classList.add(suggestion.kind);
  node.querySelector(".title").textContent = suggestion.title || suggestion.id;
  // A ranking score, not a certainty: 0.9999 is shown as 99%, never 100%.
  node.querySelector(".score").textContent = `${Math.min(99, Math.round((suggestion.score || 0) * 100))}%`;
  node.querySelector(".why").textContent = dutchWhy(suggestion);

  const editor = node.querySelector(".editor");
  node.querySelector(".edit").addEventListener("click", () => {
    editor.hidden = !editor.hidden;
    if (!editor.hidden) {
      editor.value = currentText(card);
      editor.focus();
    }
  });
  editor.addEventListener("input", () => {
    card.edited = editor.value;
    refreshCard(card);
  });
  if (suggestion.kind === "article") node.querySelector(".edit").hidden = true;
  node.querySelector(".copy").addEventListener("click", () => copy(card));
  for (const button of node.querySelectorAll(".fb")) {
    button.addEventListener("click", () => sendFeedback(card, button.dataset.action));
  }
  state.cards.push(card);
  buildInputs(card);
  refreshCard(card);
  return node;
}

// One input per placeholder the server could not fill.
function buildInputs(card) {
  const box = card.node.querySelector(".inputs");
  // {initialen} comes from the agent's signature setting when that is filled in.
  const names = [...new Set(card.suggestion.needs_input || [])].filter((name) => name !== "initialen" || !initials());
  box.replaceChildren(...names.map((name) => {
    const label = document.createElement("label");
    label.append(`${name} `);
    if ((card.suggestion.withheld || []).includes(name)) {
      // The message holds it, but it is personal data and this reply is public.
      label.title = "Persoonsgegeven uit het bericht: niet ingevuld, want dit kanaal is openbaar.";
      label.classList.add("withheld");
      const note = document.createElement("span");
      note.className = "withheld-note";
      note.textContent = "persoonsgegeven: niet openbaar delen, vraag het via DM of herschrijf de zin";
      label.append(note);
    }
    const input = document.createElement("input");
    input.dataset.placeholder = name;
    input.placeholder = `{${name}}`;
    input.autocomplete = "off";
    input.addEventListener("input", () => {
      card.values[name] = input.value;
      refreshCard(card);
    });
    label.append(input);
    return label;
  }));
}

function currentText(card) {
  const s = card.suggestion;
  if (s.kind === "article") return s.url || s.id;
  if (card.edited !== null) return card.edited;
  const values = { ...card.values };
  if (initials() && !values.initialen) values.initialen = initials();
  return (s.text || "").replace(PLACEHOLDER, (whole, name) => (values[name] || "").trim() || whole);
}

function refreshCard(card) {
  const s = card.suggestion;
  const text = currentText(card);
  const preview = card.node.querySelector(".preview");
  if (s.kind === "article") {
    const address = s.url || s.id;
    const safe = webAddress(address);
    if (safe) {
      const link = document.createElement("a");
      link.href = safe;
      link.textContent = address;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      preview.replaceChildren(link);
    } else {
      preview.replaceChildren(document.createTextNode(address || ""));  // javascript:, data:, … stay plain text
    }
  } else {
    preview.replaceChildren(...highlight(text, "needs"));
  }
  const missing = [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
  const length = state.message.channel === "twitter" ? xLength(text) : [...text].length;
  const count = card.node.querySelector(".count");
  count.textContent = s.kind === "article" ? "" : s.limit ? `${length} / ${s.limit} tekens` : `${length} tekens`;
  count.classList.toggle("over", Boolean(s.limit && length > s.limit));
  const copyButton = card.node.querySelector(".copy");
  copyButton.disabled = missing.length > 0;
  copyButton.title = missing.length ? `Vul eerst in: ${missing.join(", ")}` : "Kopieer naar het klembord";
  card.node.classList.toggle("incomplete", missing.length > 0);
}

// A reply's length as X counts it, as the server does (rank/fill.py x_length): a link 23, an emoji 2,
// characters outside the Latin and similar ranges 2.
const X_LINK = /https?:\/\/\S+|www\.\S+|(?<![\w@.-])(?:[a-z0-9-]+\.)+(?:com|nl|be|org|net|eu|de|fr|io|info|shop)\b(?:\/\S*)?/giu;
const X_EMOJI = /\p{Regional_Indicator}{2}|\p{Extended_Pictographic}[\u{fe0f}\u{1f3fb}-\u{1f3ff}]*(?:\u{200d}\p{Extended_Pictographic}[\u{fe0f}\u{1f3fb}-\u{1f3ff}]*)*|[#*0-9]\u{fe0f}?\u{20e3}/gu;
const X_WIDE = /[^\u{0}-\u{10ff}\u{2000}-\u{200d}\u{2010}-\u{201f}\u{2032}-\u{2037}]/gu;

function xLength(text) {
  let rest = text.normalize("NFC");
  const links = (rest.match(X_LINK) || []).length;
  rest = rest.replace(X_LINK, "");
  const emoji = (rest.match(X_EMOJI) || []).length;
  rest = rest.replace(X_EMOJI, "");
  return 23 * links + 2 * emoji + [...rest].length + (rest.match(X_WIDE) || []).length;
}

// Only an absolute http(s) address may become a link.
function webAddress(text) {
  try {
    const url = new URL(String(text || "").trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (_) {
    return null;
  }
}

async function copy(card) {
  const text = currentText(card);
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    // Fallback for browsers that refuse the clipboard API (e.g. an http page on another host).
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  card.node.querySelector(".fb-status").textContent = "Gekopieerd.";
}

async function sendFeedback(card, action) {
  const s = card.suggestion;
  const buttons = card.node.querySelectorAll(".fb");
  if (card.sending) return;  // a double click stores one row
  card.sending = true;
  buttons.forEach((b) => { b.disabled = true; });
  // Sent after a change to the text itself (not only the blanks filled in): that is an edit.
  if (action === "used" && card.edited !== null && card.edited !== s.text) action = "edited";
  const body = {
    message_id: state.result.id,
    suggestion_id: s.id,
    action,
    text: state.message.text,
  };
  if (state.message.company) body.company = state.message.company;
  if (s.kind === "template") body.suggested_text = s.text;
  if (action !== "rejected") body.final_text = currentText(card);
  const agent = $("agent-name").value.trim();
  if (agent) body.agent = agent;
  const labels = corrections();
  if (labels) body.labels = labels;
  const status = card.node.querySelector(".fb-status");
  status.classList.remove("failed");
  try {
    await api("/feedback", body);
    status.textContent = { used: "Opgeslagen: gebruikt.", edited: "Opgeslagen: aangepast.", rejected: "Opgeslagen: afgewezen." }[action];
    card.node.classList.add(`done-${action}`);
  } catch (error) {
    status.textContent = `Niet opgeslagen: ${error.message}`;
    status.classList.add("failed");
    buttons.forEach((b) => { b.disabled = false; });
    card.sending = false;
  }
}

function pick(index) {
  const card = state.cards[index];
  if (!card) return;
  state.cards.forEach((c) => c.node.classList.toggle("selected", c === card));
  card.node.scrollIntoView({ block: "nearest" });
  const empty = card.node.querySelector(".inputs input:placeholder-shown");
  (empty || card.node.querySelector(".copy:not([disabled])") || card.node).focus();
}

// -- keyboard first --------------------------------------------------------------------------------
$("message-form").addEventListener("submit", (event) => {
  event.preventDefault();
  analyze(false);
});
// Another channel or platform changes the decision, the filling in and the length limit: results made for
// the old one must not stay on screen, ready to copy.
for (const id of ["channel", "platform"]) {
  $(id).addEventListener("change", () => {
    if (state.result && $("text").value.trim()) analyze(state.always);
  });
}
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    // In a suggestion (its editor or a placeholder field) Ctrl+Enter must not re-analyse: that would
    // throw away the edit in progress.
    if (event.target.closest && event.target.closest("#cards")) return;
    event.preventDefault();
    analyze(false);
    return;
  }
  if (event.key === "Escape") {
    $("text").focus();
    return;
  }
  const typing = event.target.closest && event.target.closest("input, textarea, select");
  if (!typing && !event.ctrlKey && !event.metaKey && !event.altKey && /^[1-9]$/.test(event.key)) {
    event.preventDefault();
    pick(Number(event.key) - 1);
  }
});

// maxlength cuts a longer paste silently: say so next to the text box. beforeinput still sees the whole
// text being inserted (a paste, a drop, typed text), so the notice can tell how long it was.
let wanted = null;
$("text").addEventListener("beforeinput", (event) => {
  const box = $("text");
  const inserted = event.data ?? (event.dataTransfer ? event.dataTransfer.getData("text/plain") : "");
  wanted = box.value.length - (box.selectionEnd - box.selectionStart) + (inserted || "").length;
});
$("text").addEventListener("input", () => {
  const box = $("text");
  const limit = box.maxLength;
  const atLimit = limit > 0 && box.value.length >= limit;
  const shown = limit.toLocaleString("nl-NL");
  $("text-limit").hidden = !atLimit;
  $("text-limit").textContent = !atLimit ? ""
    : wanted !== null && wanted > limit
      ? `Het bericht is ingekort tot ${shown} tekens (het waren er ${wanted.toLocaleString("nl-NL")}): de rest wordt niet geanalyseerd.`
      : `Het bericht heeft de limiet van ${shown} tekens bereikt: langer kan niet.`;
  wanted = null;
});

checkHealth();
