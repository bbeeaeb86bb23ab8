import { describe, expect, it } from "vitest";
import { toProblem } from "./problem";

describe("toProblem", () => {
  it("test_field_paths_become_form_field_names", () => {
    const p = toProblem(
      {
        detail: "The request has invalid fields.",
        error_id: "e1",
        errors: [
          { field: "body.new_password", message: "Too short." },
          { field: "body.attachments.0", message: "Unknown reference." },
        ],
      },
      new Response(null, { status: 422 }),
    );
    expect(p).toEqual({
      status: 422,
      detail: "The request has invalid fields.",
      errorId: "e1",
      fields: { new_password: "Too short.", attachments: "Unknown reference." },
    });
  });

  it("test_a_body_that_is_not_a_problem_still_gives_words_and_the_request_id", () => {
    const p = toProblem(
      "<html>bad gateway</html>",
      new Response(null, { status: 502, headers: { "X-Request-ID": "r9" } }),
    );
    expect(p.detail).toBe("The service is unavailable for a moment. Try again shortly.");
    expect(p.errorId).toBe("r9");
  });
});
