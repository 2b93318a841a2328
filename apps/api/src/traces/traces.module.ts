import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { TracesController } from './traces.controller.js';

@Module({ imports: [AuthModule], controllers: [TracesController] })
export class TracesModule {}
