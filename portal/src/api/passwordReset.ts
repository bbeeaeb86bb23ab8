import { ProblemError } from "./problem";

/**
 * Identity's password-reset routes (POST /api/identity/password-resets and .../confirm, API-ADDITIONS.md) are not in
 * the combined OpenAPI document yet. Until they are, the screens exist and say so instead of calling an untyped path.
 */
function unavailable(): never {
  throw new ProblemError({
    status: 501,
    detail: "Password reset is not available yet. Ask support to reset your password.",
    errorId: null,
    fields: {},
  });
}

export async function requestPasswordReset(email: string): Promise<void> {
  void email;
  unavailable();
}

export async function confirmPasswordReset(token: string, newPassword: string): Promise<void> {
  void token;
  void newPassword;
  unavailable();
}
