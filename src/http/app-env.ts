// What the Hono context carries for every request.
import type { Role } from "./api-keys";

export interface Principal {
  id: string;
  role: Role;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** Set by the authenticate middleware on every /v1 route. */
    principal: Principal;
  };
}
