// Allure Report 3 configuration for the releasegate HTML report and quality gate.
//
// releasegate decides the release itself; this file only renders reports/allure-results (written
// by releasegate/report/allure_results.py) and lets CI re-check the same results with
// `npx allure quality-gate`. Nothing here may make a report look better than the verdict.
import { readFileSync } from "node:fs";
import { qualityGateDefaultRules } from "allure/rules";

const RESULTS_DIR = "./allure-results";

// Allure 3 (3.15 through 3.18 at least) validates quality gates with Iterator.prototype.toArray,
// which Node.js has only since 22; on Node 20 `allure quality-gate` dies with "toArray is not a
// function" as soon as there are results. This config is loaded before the gate runs, so the
// missing method is supplied here; on Node 22+ nothing changes.
const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
if (typeof iteratorPrototype.toArray !== "function") {
  Object.defineProperty(iteratorPrototype, "toArray", {
    value() {
      return Array.from(this);
    },
    writable: true,
    configurable: true,
  });
}

// The Awesome plugin ignores categories.json in the results directory (only the Allure 2 style
// plugins read it), so the same rules are loaded here. Python writes that file, which keeps one
// definition of the categories; without it Allure's default categories apply.
const loadCategories = () => {
  try {
    const raw = JSON.parse(readFileSync(new URL(`${RESULTS_DIR}/categories.json`, import.meta.url)));
    return raw.map(({ name, matchedStatuses, messageRegex }) => ({
      name,
      matchedStatuses,
      ...(messageRegex ? { messageRegex } : {}),
    }));
  } catch {
    return undefined;
  }
};

const hasTag = (tr, tag) => tr.labels.some((label) => label.name === "tag" && label.value === tag);
const isBlocking = (tr) => hasTag(tr, "blocking");

// maxFailures counts only failed and broken results. A blocking criterion that was not run is
// "skipped" in Allure but blocks the release, so the gate counts those too.
const maxNotRunRule = {
  rule: "maxNotRun",
  message: ({ actual, expected }) =>
    `${actual} blocking criteria were not run; at most ${expected} allowed`,
  successMessage: ({ actual, expected }) =>
    `${actual} blocking criteria were not run; at most ${expected} allowed`,
  validate: async ({ trs, expected, state }) => {
    const previous = Number(state.getResult() ?? 0);
    const notRun = trs.filter((tr) => tr.status === "skipped");
    const testResults = notRun.map((tr) => tr.id);
    const actual = previous + notRun.length;
    state.setResult(actual, testResults);
    return { success: actual <= expected, actual, testResults };
  },
};

export default {
  name: "releasegate",
  output: "./html",
  resultsDir: RESULTS_DIR,
  // History lives beside releasegate's own summary history, so trends survive fresh result dirs.
  historyPath: "./history/allure-history.jsonl",
  historyLimit: 20,
  categories: loadCategories(),
  plugins: {
    awesome: {
      options: {
        singleFile: true,
        reportLanguage: "en",
        // Area, then criterion: a release manager finds "Security → SEC-AUTHZ", not a profile.
        groupBy: ["epic", "feature"],
      },
    },
    // Added implicitly by Allure 3 unless configured; releasegate has no use for its output.
    agent: { enabled: false },
  },
  qualityGate: {
    rules: [
      // Same rule as the release decision: only blocking criteria can hold the release back.
      { id: "blocking", filter: isBlocking, maxFailures: 0, maxNotRun: 0 },
      // An empty results directory must never pass; criteria the profile excludes are listed
      // in the report but are not evidence of anything.
      { id: "run", filter: (tr) => !hasTag(tr, "excluded"), minTestsCount: 1 },
    ],
    use: [...qualityGateDefaultRules, maxNotRunRule],
  },
};
