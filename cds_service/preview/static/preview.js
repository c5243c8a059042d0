// The card preview page. Every text from the service goes in with textContent; the only HTML inserted is the
// card detail, rendered on the server by markdown-it with raw HTML off.
"use strict";

const $ = (id) => document.getElementById(id);
const HTTP = /^https?:\/\//i;

// The page's own words, in the language chosen for the cards: elements with data-ui (their text) and data-ui-label
// (aria-label) take theirs from here; the cards and facts come worded from the service.
const UI = {
  en: {
    title: "HER2 CDS — card preview",
    note:
      "The cards an EHR would show for a patient, hook, order and language, next to the facts the service read " +
      "from the record. A development and integration tool: previews are not recorded as issued cards.",
    knowledge: "Knowledge",
    patient: "Patient",
    example: "Example patient",
    bundle: "Paste or upload a FHIR Bundle",
    bundleFile: "Upload a FHIR Bundle file",
    call: "Call",
    hook: "Hook",
    order: "Anti-HER2 order",
    language: "Language",
    run: "Show cards",
    cards: "Cards",
    facts: "Patient facts the service derived",
    request: "Hook request sent (as an EHR would send it)",
    noCards: "No cards: the service has nothing to say here.",
    overrides: "Override reasons",
    source: "Source: ",
    rule: "rule",
    indicators: { info: "info", warning: "warning", critical: "critical" },
    suggested: (what) => `Preview: the EHR would now ${what ? "do: " + what : "accept this suggestion"}.`,
    cannotShow: "Cannot show cards: ",
    cannotLoad: "Cannot load the choices: ",
  },
  "zh-CN": {
    title: "HER2 CDS — 卡片预览",
    note: "EHR针对所选患者、hook、医嘱和语言会显示的卡片，旁边是服务从病历中读取的事实。此为开发与集成工具：预览不记录为已发出的卡片。",
    knowledge: "知识库",
    patient: "患者",
    example: "示例患者",
    bundle: "粘贴或上传FHIR Bundle",
    bundleFile: "上传FHIR Bundle文件",
    call: "调用",
    hook: "Hook",
    order: "抗HER2医嘱",
    language: "语言",
    run: "显示卡片",
    cards: "卡片",
    facts: "服务得出的患者事实",
    request: "发送的hook请求（与EHR发送的一致）",
    noCards: "没有卡片：服务对此没有需要提示的内容。",
    overrides: "不采纳的理由",
    source: "来源：",
    rule: "规则",
    indicators: { info: "提示", warning: "警告", critical: "危急" },
    suggested: (what) => `预览：EHR此时将${what ? "执行：" + what : "接受此建议"}。`,
    cannotShow: "无法显示卡片：",
    cannotLoad: "无法加载选项：",
  },
};

function ui(key) {
  return (UI[$("language").value] || UI.en)[key];
}

function applyLanguage() {
  const language = UI[$("language").value] ? $("language").value : "en";
  document.documentElement.lang = language;
  document.title = ui("title");
  for (const node of document.querySelectorAll("[data-ui]")) node.textContent = ui(node.dataset.ui);
  for (const node of document.querySelectorAll("[data-ui-label]")) {
    node.setAttribute("aria-label", ui(node.dataset.uiLabel));
  }
}

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
  head.append(element("span", "indicator", ui("indicators")[indicator]), element("h3", "summary", card.summary));
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
      const note = element("p", "suggestion-note", ui("suggested")(what));
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
    overrides.append(element("summary", "", ui("overrides")));
    const list = element("ul");
    for (const reason of card.overrideReasons) list.append(element("li", "", reason.display));
    overrides.append(list);
    article.append(overrides);
  }
  const source = element("footer", "source");
  source.append(ui("source"));
  if (card.source.url && HTTP.test(card.source.url)) {
    const a = element("a", "source-link", card.source.label);
    a.href = card.source.url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    source.append(a);
  } else {
    source.append(element("span", "source-label", card.source.label));
  }
  if (card.source.topic && card.source.topic.code) source.append(` · ${ui("rule")} ${card.source.topic.code}`);
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
  if (!answer.cards.length) cards.append(element("p", "no-cards", ui("noCards")));
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
    showError(`${ui("cannotShow")}${error.message}`);
    results.dataset.state = "error";
  }
}

async function start() {
  applyLanguage();
  $("language").addEventListener("change", applyLanguage);
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
    showError(`${ui("cannotLoad")}${error.message}`);
  }
}

document.addEventListener("DOMContentLoaded", start);
