import { Module } from '@nestjs/common';
import { DASHBOARD_ASSETS, loadDashboardAssets } from './dashboard.assets';
import { DashboardController } from './dashboard.controller';

/**
 * The operators' dashboard at `/dashboard`: the fleet by state, one workflow's statechart and journal,
 * and the approval inbox. Server-rendered HTML plus one small script; all data comes from the HTTP API.
 */
@Module({
  controllers: [DashboardController],
  providers: [{ provide: DASHBOARD_ASSETS, useFactory: () => loadDashboardAssets() }],
})
export class DashboardModule {}
