/**
 * Events of durable blocks (spec/api.md §events): `GET /v1/events` pages them with filters, and the
 * WebSocket at `GET /v1/ws` streams blocks and events to subscribers, replaying from a height first.
 */
import websocket from "@fastify/websocket";
import { LIMITS, TallyError } from "@tally/core";
import type { FastifyInstance } from "fastify";
import type { Chain } from "../chain.js";
import { CURSOR_PATTERN } from "../events/event-log.js";
import { DEFAULT_EVENT_STREAM_LIMITS, EventHub, type EventStreamLimits } from "../events/hub.js";
import type { Logger } from "../logger.js";
import type { NodeMetrics } from "../metrics.js";

export interface EventRoutesDeps {
  readonly chain: Chain;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  /** Overrides of the LIMITS defaults (tests use small ones). */
  readonly limits?: Partial<EventStreamLimits>;
}

const nameSchema = { type: "string", minLength: 1, maxLength: LIMITS.nameLengthMax } as const;

export function registerEventRoutes(app: FastifyInstance, deps: EventRoutesDeps, responses: Record<number, unknown>): void {
  const limits: EventStreamLimits = { ...DEFAULT_EVENT_STREAM_LIMITS, ...deps.limits };
  const hub = new EventHub(deps.chain, deps.metrics, deps.log, limits);

  void app.register(async (scope) => {
    await scope.register(websocket, {
      // Frames above this close the connection (1009) before they are read; smaller messages over
      // limits.messageBytesMax get a TOO_LARGE error and the connection stays.
      options: { maxPayload: limits.frameBytesMax },
      errorHandler: (err, socket) => {
        deps.log.debug({ err }, "WebSocket error");
        socket.terminate();
      },
      preClose(done) {
        hub.close();
        this.websocketServer.close();
        done();
      },
    });

    scope.get(
      "/v1/events",
      {
        schema: {
          summary: "Events of durable blocks in commit order, filtered and paged",
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: {
              fromHeight: { type: "integer", minimum: 1 },
              toHeight: { type: "integer", minimum: 1 },
              module: nameSchema,
              name: nameSchema,
              contract: { type: "string", pattern: "^([0-9a-f]{2}){1,32}$" },
              limit: { type: "integer", minimum: 1, maximum: LIMITS.apiListLimitMax, default: 100 },
              after: { type: "string", pattern: CURSOR_PATTERN },
            },
          },
          response: responses,
        },
      },
      async (req) => {
        const q = req.query as {
          fromHeight?: number;
          toHeight?: number;
          module?: string;
          name?: string;
          contract?: string;
          limit: number;
          after?: string;
        };
        const filter = {
          ...(q.module === undefined ? {} : { module: q.module }),
          ...(q.name === undefined ? {} : { name: q.name }),
          ...(q.contract === undefined ? {} : { contract: q.contract }),
        };
        return hub.log.page({
          filter,
          limit: q.limit,
          ...(q.fromHeight === undefined ? {} : { fromHeight: q.fromHeight }),
          ...(q.toHeight === undefined ? {} : { toHeight: q.toHeight }),
          ...(q.after === undefined ? {} : { after: q.after }),
        });
      },
    );

    scope.route({
      method: "GET",
      url: "/v1/ws",
      schema: { hide: true },
      // A plain GET (no upgrade) learns what this path is for, in the API's error format.
      handler: async () => {
        throw new TallyError("BAD_REQUEST", "GET /v1/ws takes a WebSocket upgrade (spec/api.md §events)");
      },
      wsHandler: (socket) => hub.accept(socket),
    });
  });
}
