import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { PluginsModule } from '../plugins/plugins.module.js';
import { BindingsController } from './bindings.controller.js';
import { BindingsService } from './bindings.service.js';

@Module({ imports: [AuthModule, PluginsModule], controllers: [BindingsController], providers: [BindingsService] })
export class BindingsModule {}
