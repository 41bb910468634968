import { describe, expect, it } from "vitest";
import { invokesReporter, simpleCommands } from "../../../src/gate/command-match.js";

const REPORTER = ["mai", "report", "completed", "{summary}"];

describe("does a shell command run the reporter?", () => {
  it.each([
    ['mai report completed "did the thing"', true],
    ["mai report completed 'x'", true],
    ["/usr/local/bin/mai report completed x", true],
    ["cd repo && mai report completed x", true],
    ["git push; mai report completed x", true],
    ["FOO=1 sudo -E mai report completed x", true],
    ["bash -c 'mai report completed done'", true],
    ["echo $(mai report completed x)", true],
    ["mai report status", false],
    ["mai report", false],
    ["echo mai report completed", false],
    ["grep 'mai report completed' notes.md", false],
    ["maid report completed", false],
  ])("%s → %s", (command, expected) => {
    expect(invokesReporter(command, REPORTER)).toBe(expected);
  });

  it("reads words with shell quoting", () => {
    expect(simpleCommands(`a "b c" 'd e' f\\ g && h`)).toEqual([["a", "b c", "d e", "f g"], ["h"]]);
  });

  it("never matches a reporter with no fixed words", () => {
    expect(invokesReporter("anything", ["{summary}"])).toBe(false);
  });
});
