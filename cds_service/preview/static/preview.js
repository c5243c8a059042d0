// The card preview page. Every text from the service goes in with textContent; the only HTML inserted is the
// card detail, rendered on the server by markdown-it with raw HTML off.
"use strict";

const $ = (id) => document.getElementById(id);
const HTTP = /^https?:\/\//i;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showError(message) {
  const line = $("error");
  line.textContent = message;
  line.hidden = !message;
}

function option(value, label) {
  const node = element("option", "", label);
  node.value = value;
  return node;
}

function fillOrders(orders, language) {
  const select = $("order");
  const chosen = select.value;
  select.replaceChildren();
  const groups = { drug: "Anti-HER2 drugs · 抗HER2药物", product: "Products and biosimilars · 商品与生物类似药" };
  for (const [group, title] of Object.entries(groups)) {
    const optgroup = element("optgroup");
    optgroup.label = title;
    for (const o of orders.filter((x) => x.group === group)) {
      const other = language === "zh-CN" ? o.en : o["zh-CN"];
      const own = language === "zh-CN" ? o["zh-CN"] : o.en;
      optgroup.append(option(o.value, `${own} · ${other}`));
    }
    select.append(optgroup);
  }
  if (chosen) select.value = chosen;
}

function syncHook() {
  $("order").disabled = $("hook").value === "patient-view";
}

function renderCard(card, detailHtml) {
  const indicator = ["info", "warning", "critical"].includes(card.indicator) ? card.indicator : "info";
  const article = element("article", `card indicator-${indicator}`);
  article.dataset.indicator = indicator;
  const head = element("div", "card-head");
  head.append(element("span", "indicator", indicator), element("h3", "summary", card.summary));
  article.append(head);
  if (detailHtml) {
    const detail = element("div", "detail");
    detail.innerHTML = detailHtml; // markdown-it, html: false (see cds_service/preview/markdown.py)
    article.append(detail);
  }
  const actions = element("div", "actions");
  for (const suggestion of card.suggestions || []) {
    const button = element("button", "suggestion", suggestion.label);
    button.type = "button";
    button.addEventListener("click", () => {
      const what = (suggestion.actions || []).map((a) => a.description).join("; ");
      const note = element("p", "suggestion-note", `Preview: the EHR would now ${what ? "do: " + what : "accept this suggestion"}.`);
      article.insertBefore(note, actions.nextSibling);
      button.disabled = true;
    });
    actions.append(button);
  }
  for (const link of card.links || []) {
    const a = element("a", "link-button", link.label);
    if (HTTP.test(link.url)) a.href = link.url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    actions.append(a);
  }
  if (actions.childElementCount) article.append(actions);
  if (card.overrideReasons) {
    const overrides = element("details", "overrides");
    overrides.append(element("summary", "", "Override reasons"));
    const list = element("ul");
    for (const reason of card.overrideReasons) list.append(element("li", "", reason.display));
    overrides.append(list);
    article.append(overrides);
  }
  const source = element("footer", "source");
  source.append("Source: ");
  if (card.source.url && HTTP.test(card.source.url)) {
    const a = element("a", "source-link", card.source.label);
    a.href = card.source.url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    source.append(a);
  } else {
    source.append(element("span", "source-label", card.source.label));
  }
  if (card.source.topic && card.source.topic.code) source.append(` · rule ${card.source.topic.code}`);
  article.append(source);
  return article;
}

function renderFact(fact) {
  const row = element("div", "fact");
  row.append(element("span", "fact-label", fact.label), ": ", element("span", "fact-value", fact.value));
  if (fact.sources.length) {
    const list = element("ul", "fact-sources");
    for (const s of fact.sources) {
      const item = element("li");
      item.append(element("code", "", s.reference), ` · ${s.date} · ${s.label}: ${s.value}`);
      list.append(item);
    }
    row.append(list);
  }
  return row;
}

function render(answer) {
  $("service").textContent = `(${answer.service}, ${answer.cards.length})`;
  const cards = $("cards");
  cards.replaceChildren(...answer.cards.map((card, i) => renderCard(card, answer.detailHtml[i])));
  if (!answer.cards.length) cards.append(element("p", "no-cards", "No cards: the service has nothing to say here."));
  $("facts").replaceChildren(...answer.facts.map(renderFact));
  $("request").textContent = JSON.stringify(answer.request, null, 2);
}

async function evaluate(event) {
  event.preventDefault();
  const results = $("results");
  results.dataset.state = "busy";
  showError("");
  const hook = $("hook").value;
  const ask = { hook, language: $("language").value, orders: hook === "patient-view" ? [] : [$("order").value] };
  if ($("source-example").checked) ask.example = $("example").value;
  else ask.bundle = $("bundle").value;
  try {
    const response = await fetch("preview/evaluate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(ask),
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (!response.ok || !answer || answer.error) {
      const said = answer && answer.error ? answer.error : `the service answered HTTP ${response.status}`;
      throw new Error(said);
    }
    render(answer);
    results.dataset.state = "done";
  } catch (error) {
    $("cards").replaceChildren();
    $("facts").replaceChildren();
    $("service").textContent = "";
    showError(`Cannot show cards: ${error.message}`);
    results.dataset.state = "error";
  }
}

async function start() {
  $("ask").addEventListener("submit", evaluate);
  $("hook").addEventListener("change", syncHook);
  $("bundle").addEventListener("input", () => ($("source-bundle").checked = true));
  $("example").addEventListener("change", () => ($("source-example").checked = true));
  $("bundle-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    $("bundle").value = await file.text();
    $("source-bundle").checked = true;
  });
  try {
    const response = await fetch("preview/options");
    const options = await response.json();
    $("knowledge").textContent = options.knowledge;
    $("example").replaceChildren(...options.examples.map((name) => option(name, name)));
    $("hook").replaceChildren(...options.hooks.map((hook) => option(hook, hook)));
    fillOrders(options.orders, $("language").value);
    $("language").addEventListener("change", () => fillOrders(options.orders, $("language").value));
    syncHook();
    document.body.dataset.ready = "true";
  } catch (error) {
    showError(`Cannot load the choices: ${error.message}`);
  }
}

document.addEventListener("DOMContentLoaded", start);
