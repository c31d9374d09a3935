import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Me } from '@troupe/contracts';
import { ProblemResponses, ZodResponse } from '../http/openapi';
import { CurrentPrincipal } from './current-principal.decorator';
import type { Principal } from './principal';
import { READ_ROLES, Roles } from './roles.decorator';

/** `GET /me`: who the gateway takes the caller for. */
@ApiTags('auth')
@ApiSecurity('api-key')
@ApiSecurity('jwt')
@Controller('me')
export class MeController {
  @Get()
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'The authenticated caller: id, roles and how it authenticated' })
  @ZodResponse(200, 'the caller', Me)
  @ProblemResponses()
  me(@CurrentPrincipal() principal: Principal): Me {
    return { id: principal.id, roles: principal.roles, via: principal.via };
  }
}
