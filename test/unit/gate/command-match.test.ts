import { describe, expect, it } from "vitest";
import { invokesReporter, namesWord } from "../../../src/gate/command-match.js";
import { fixedPrefix, mayMention } from "../../../src/gate/command-mention.js";
import { REPORT_SPELLINGS } from "../../helpers/spellings.js";

const REPORTER = ["mai", "report", "completed", "{summary}"];

/** These run it too, but not through PATH (a path of its own), or only when a file exists (a glob). */
const ALSO_RUN_IT = [
  "./mai report completed x",
  "/usr/local/bin/mai report completed x",
  "sudo -u me mai report completed x",
  "sudo FOO=1 mai report completed x",
  "mai report complete? x",
];

describe("commands that run the reporter", () => {
  it.each([...REPORT_SPELLINGS, ...ALSO_RUN_IT])("%s", (command) => {
    expect(invokesReporter(command, REPORTER)).toBe(true);
  });
});

describe("commands that cannot be decided statically: denied when they name the program", () => {
  it.each([
    ["bash ./mai.sh", true],
    ["bash ./report.sh", false],
    ["source ./mai-env.sh", true],
    [". ./setup.sh", false],
    ['eval "$CMD"', false],
    ['eval "$CMD" # mai', true],
    ["$EDITOR notes.txt", false],
    ["$TOOL mai", true],
    ["alias r='mai report completed'", true],
    ["sh < ./x.sh", false],
    ["echo mai > cmd.txt; bash cmd.txt", true],
  ])("%s → %s", (command, expected) => {
    expect(invokesReporter(command, REPORTER)).toBe(expected);
  });
});

describe("commands that do not run the reporter", () => {
  it.each([
    "git status",
    "ls -la",
    'echo "mai report completed"',
    "grep mai report.txt",
    "grep -r 'mai report completed' docs/",
    "mai status",
    "mai report status",
    "mai report",
    "mai completed report",
    "cat mai.txt",
    "maid report completed x",
    "mail report completed x",
    "which mai",
    "command -v mai",
    'git commit -m "mai report completed when green"',
    `bash -c 'echo "mai report completed"'`,
    "npm test",
    "",
  ])("%s", (command) => {
    expect(invokesReporter(command, REPORTER)).toBe(false);
  });
});

describe("a command handing the reporter's words to a program not known as a wrapper counts", () => {
  it.each([
    "flock /tmp/l mai report completed x",
    "ionice -c3 mai report completed x",
    "strace -f -o /dev/null mai report completed x",
    "ssh host mai report completed x",
    // The price: an unquoted echo of the words counts too (quoted, it is one literal argument).
    "echo mai report completed",
  ])("%s", (command) => {
    expect(invokesReporter(command, REPORTER)).toBe(true);
  });
});

describe("wrappers, with a reporter that is the program alone", () => {
  const BARE = ["mai", "{summary}"];
  it.each([
    ["nice -n 5 mai hello", true],
    ["timeout 5 mai", true],
    ["env -C /tmp X=1 mai hi", true],
    ["xargs -0 mai", true],
    ["find . -exec ./bin/mai {} ;", true],
    ["sudo -u root -- mai x", true],
    ["watch -n 1 mai x", true],
    ["flock /tmp/l mai x", true],
    ["flock /tmp/l -c 'mai x'", true],
    ["su me -c 'mai x'", true],
    ["echo mai", false],
    ["grep mai x.txt", false],
    ["timeout 5 grep mai", false],
    ["nice -n mai true", false],
  ])("%s → %s", (command, expected) => {
    expect(invokesReporter(command, BARE)).toBe(expected);
  });
});

describe("parse failures and the fast path", () => {
  it("denies a command that names the program and does not parse", () => {
    expect(invokesReporter("mai report completed 'x", REPORTER)).toBe(true);
    expect(invokesReporter("if mai; then", REPORTER)).toBe(true);
  });

  it("allows a command that does not parse and does not name the program", () => {
    expect(invokesReporter("echo 'unterminated", REPORTER)).toBe(false);
  });

  it("only the program's name as a word of its own, quotes removed, reaches the parser", () => {
    expect(mayMention("git status", "mai")).toBe(false);
    expect(mayMention("cat maintenance.log", "mai")).toBe(false);
    expect(mayMention("m'a'i x", "mai")).toBe(true);
    expect(mayMention('"m"a\\i x', "mai")).toBe(true);
    expect(mayMention("/usr/bin/mai x", "mai")).toBe(true);
  });

  it("never matches a reporter with no fixed words", () => {
    expect(invokesReporter("anything", ["{summary}"])).toBe(false);
    expect(fixedPrefix(REPORTER)).toEqual(["mai", "report", "completed"]);
  });
});

describe("names a word (the fallback when the reporter is unknown)", () => {
  it.each([
    ['mai rep""ort completed x', true],
    ["x rep\\ort", true],
    ["cat report.txt", true],
    ["git status", false],
    ["echo reporter", false],
    ["echo 'rep", false],
  ])("%s → %s", (command, expected) => {
    expect(namesWord(command, "report")).toBe(expected);
  });
});
