// The web interface: plain JavaScript against the HTTP/JSON API (no build step).
"use strict";

const $ = (id) => document.getElementById(id);
const EXAMPLE_USERS = ["U0000001", "U0000002", "U0000042", "U0000100", "U0001000"];
const ACTIONS = [["view", "View"], ["add_to_cart", "Add to cart"], ["purchase", "Purchase"]];
const MODES = {
  SERVING_MODE_FULL: "full (retrieval + scoring)",
  SERVING_MODE_RETRIEVAL_ORDER: "retrieval order (scoring unavailable)",
  SERVING_MODE_POPULARITY: "popularity (personalisation unavailable)",
};
const TYPES = {
  INTERACTION_TYPE_VIEW: "viewed", INTERACTION_TYPE_CLICK: "clicked", INTERACTION_TYPE_ADD_TO_CART: "added to cart",
  INTERACTION_TYPE_PURCHASE: "bought", INTERACTION_TYPE_RATING: "rated",
};
let lastAnswer = null;

const TOKEN_KEY = "recsys-token";  // this tab only (sessionStorage), never sent anywhere but here

async function api(method, path, body, retried = false) {
  const headers = body ? {"Content-Type": "application/json"} : {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {method, headers, body: body ? JSON.stringify(body) : undefined});
  const payload = await response.json().catch(() => ({}));
  if (response.status === 401 && !retried && await askForToken(payload.detail)) {
    return api(method, path, body, true);
  }
  if (!response.ok) {
    // RFC 9457 problem details: `detail` says what was wrong in plain words
    throw new Error(payload.detail || `${response.status} ${response.statusText}`);
  }
  return payload;
}

// The server wants a bearer token (writes, or every call where reads are protected): ask once.
function askForToken(reason) {
  return new Promise((resolve) => {
    const dialog = $("sign-in");
    $("sign-in-reason").textContent = reason || "This server needs an access token.";
    $("token").value = "";
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      const token = $("token").value.trim();
      if (dialog.returnValue === "ok" && token) sessionStorage.setItem(TOKEN_KEY, token);
      resolve(dialog.returnValue === "ok" && Boolean(token));
    }, {once: true});
    dialog.showModal();
  });
}

function showError(error) {
  const box = $("error");
  if (!error) { box.hidden = true; box.textContent = ""; return; }
  box.textContent = error.message || String(error);
  box.hidden = false;
}

function request() {
  const filters = {};
  const category = $("category").value.trim(), brand = $("brand").value.trim();
  if (category) filters.categories = [category];
  if (brand) filters.brands = [brand];
  if ($("min-price").value !== "") filters.minPrice = Number($("min-price").value);
  if ($("max-price").value !== "") filters.maxPrice = Number($("max-price").value);
  const body = {userId: $("user").value.trim(), k: Number($("k").value) || 8, filters};
  if ($("model").value) body.modelVersion = $("model").value;
  return body;
}

function price(value) {
  return typeof value === "number" ? value.toLocaleString(undefined, {style: "currency", currency: "USD"}) : "";
}

function card(item) {
  const product = item.product || {};
  const li = document.createElement("li");
  li.className = "card";
  li.dataset.itemId = item.itemId;
  const title = document.createElement("button");
  title.className = "title link";
  title.textContent = product.title || item.itemId;
  title.setAttribute("aria-label", `Details of ${product.title || item.itemId}`);
  title.addEventListener("click", () => openProduct(item.itemId));
  const meta = document.createElement("p");
  meta.className = "meta";
  meta.textContent = [(product.categories || []).join(" › "), product.brand].filter(Boolean).join(" · ");
  const facts = document.createElement("p");
  facts.className = "facts";
  facts.innerHTML = `<span class="price"></span> <span class="score"></span>`;
  facts.querySelector(".price").textContent = price(product.price);
  facts.querySelector(".score").textContent = `score ${Number(item.score).toFixed(3)}`;
  const reason = document.createElement("p");
  reason.className = "reason";
  reason.textContent = item.reason;
  const actions = document.createElement("div");
  actions.className = "actions";
  for (const [type, label] of ACTIONS) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.action = type;
    button.className = type === "purchase" ? "" : "secondary";
    button.addEventListener("click", () => record(type, item));
    actions.append(button);
  }
  li.append(title, meta, facts, reason, actions);
  return li;
}

function render(answer, elapsedMs, note) {
  lastAnswer = answer;
  const list = $("recommendations");
  list.replaceChildren(...answer.items.map(card));
  if (!answer.items.length) {
    const empty = document.createElement("li");
    empty.textContent = "Nothing matches these filters.";
    list.append(empty);
  }
  const parts = [`model ${answer.modelVersion}`, MODES[answer.mode] || answer.mode, `${Math.round(elapsedMs)} ms`];
  if (answer.degradedReasons.length) parts.push(`degraded: ${answer.degradedReasons.join("; ")}`);
  $("status").textContent = (note ? note + " · " : "") + parts.join(" · ");
}

async function recommend(note) {
  showError(null);
  const started = performance.now();
  const answer = await api("POST", "/recommendations", request());
  render(answer, performance.now() - started, note);
  await loadHistory();
  return answer;
}

async function loadHistory() {
  const user = $("user").value.trim();
  const list = $("history");
  try {
    const answer = await api("GET", `/users/${encodeURIComponent(user)}/history?limit=10`);
    list.replaceChildren(...answer.interactions.map((interaction) => {
      const li = document.createElement("li");
      const when = new Date(interaction.time).toLocaleString();
      li.textContent = `${TYPES[interaction.type] || interaction.type} ${interaction.itemId} · ${when}`;
      return li;
    }));
    if (!answer.interactions.length) list.innerHTML = "<li>No interactions yet.</li>";
  } catch (error) {
    list.innerHTML = "";
    const li = document.createElement("li");
    li.textContent = `History unavailable: ${error.message}`;
    list.append(li);
  }
}

const ids = (answer) => answer.items.map((item) => item.itemId).join(",");

async function record(type, item) {
  showError(null);
  const started = performance.now();
  try {
    await api("POST", "/events", {userId: $("user").value.trim(), itemId: item.itemId, type,
                                  modelVersion: item.modelVersion});
    // the event goes through the pipeline; ask again until the answer reflects it (at most 5 s)
    const before = lastAnswer ? ids(lastAnswer) : "";
    let answer;
    do {
      answer = await api("POST", "/recommendations", request());
      if (ids(answer) !== before) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (performance.now() - started < 5000);
    const elapsed = performance.now() - started;
    const label = ACTIONS.find(([t]) => t === type)[1].toLowerCase();
    const note = ids(answer) !== before
      ? `updated ${Math.round(elapsed)} ms after the ${label}`
      : `recorded the ${label}; the list did not change`;
    render(answer, elapsed, note);
    await loadHistory();
  } catch (error) {
    showError(error);
  }
}

async function openProduct(itemId) {
  try {
    const {product} = await api("GET", `/products/${encodeURIComponent(itemId)}`);
    $("product-title").textContent = product.title || product.itemId;
    const rows = [["Product id", product.itemId], ["Categories", (product.categories || []).join(" › ")],
                  ["Brand", product.brand], ["Price", price(product.price)]];
    $("product-details").replaceChildren(...rows.flatMap(([name, value]) => {
      const dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = name;
      dd.textContent = value || "—";
      return [dt, dd];
    }));
    $("product").showModal();
  } catch (error) {
    showError(error);
  }
}

async function loadModels() {
  try {
    const {models} = await api("GET", "/models");
    for (const model of models) {
      const option = document.createElement("option");
      option.value = model.version;
      const weight = model.trafficWeight ? ` (${Math.round(model.trafficWeight * 100)}% of traffic)` : "";
      option.textContent = `${model.name} ${model.version}${model.type ? " · " + model.type : ""}${weight}`;
      $("model").append(option);
    }
  } catch (error) {
    showError(new Error(`Could not list the models: ${error.message}`));
  }
}

function setup() {
  for (const user of EXAMPLE_USERS) {
    const option = document.createElement("option");
    option.value = user;
    $("example-users").append(option);
  }
  $("user").value = EXAMPLE_USERS[0];
  $("new-shopper").addEventListener("click", () => {
    $("user").value = `new-shopper-${Math.random().toString(36).slice(2, 8)}`;
    recommend().catch(showError);
  });
  $("query").addEventListener("submit", (event) => {
    event.preventDefault();
    recommend().catch(showError);
  });
  loadModels();
}

setup();
