import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { PluginsModule } from '../plugins/plugins.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { VersionsModule } from '../versions/versions.module.js';
import { BindingsController } from './bindings.controller.js';
import { BindingsService } from './bindings.service.js';

@Module({ imports: [AuthModule, PluginsModule, PoliciesModule, VersionsModule], controllers: [BindingsController], providers: [BindingsService] })
export class BindingsModule {}
