/** GET /v1/models and GET /v1/model-schema — both derived from the model specs. */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../errors.ts';
import { findModel, listModels, modelIds } from '../../models/registry.ts';
import { modelJsonSchema } from '../../models/jsonSchema.ts';
import { describeModel } from '../../models/describe.ts';
import type { AppContext } from '../context.ts';

export function modelRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.get('/models', async (req) => {
      const allowed = req.apiKey.models;
      const models = listModels().filter((m) => ctx.router.servesModel(m.id) && (!allowed || allowed.includes(m.id)));
      return { code: 200, object: 'list', data: models.map((m) => ({ ...describeModel(m), pricing: ctx.prices.describe(m.id) })) };
    });

    app.get<{ Querystring: { model?: string } }>('/model-schema', async (req) => {
      const id = req.query.model;
      const spec = id ? findModel(id) : undefined;
      if (!spec) {
        throw new ApiError('invalid_request_error', `model ${id ? JSON.stringify(id) + ' is not served' : 'is required'}: use one of ${modelIds().join(', ')}.`, 'model');
      }
      return { code: 200, data: { model: spec.id, operation: 'video_generation', input_schema: modelJsonSchema(spec) } };
    });
  };
}
