import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ApprovalsController } from './approvals.controller.js';

@Module({ imports: [AuthModule], controllers: [ApprovalsController] })
export class ApprovalsModule {}
