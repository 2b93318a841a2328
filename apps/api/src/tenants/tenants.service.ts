import { Injectable } from '@nestjs/common';
import { type Tenant, TenantRepository } from '@airlock/db';
import type { z } from 'zod';
import { notFound } from '../validation/id-param.pipe.js';
import type { createTenantSchema, listTenantsQuerySchema } from './tenant.schema.js';

@Injectable()
export class TenantsService {
  constructor(private readonly tenants: TenantRepository) {}

  create(input: z.output<typeof createTenantSchema>): Promise<Tenant> {
    return this.tenants.create(input);
  }

  async list(query: z.output<typeof listTenantsQuerySchema>): Promise<{ items: Tenant[]; nextCursor: string | null }> {
    // One extra row tells whether there is a next page.
    const rows = await this.tenants.list({ limit: query.limit + 1, after: query.cursor });
    const items = rows.slice(0, query.limit);
    return { items, nextCursor: rows.length > query.limit ? items[items.length - 1]!.id : null };
  }

  async get(id: string): Promise<Tenant> {
    const tenant = await this.tenants.findById(id);
    if (tenant === null) throw notFound('tenant');
    return tenant;
  }
}
