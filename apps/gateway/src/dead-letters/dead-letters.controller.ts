import type { z } from 'zod';
import { BadRequestException, ConflictException, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { DeadLetterNotFoundError, DeadLetterOriginMismatchError, DeadLetterTruncatedError, listDeadLetters, replayDeadLetter } from '@troupe/bus';
import { DeadLetterPage, DeadLetterReplayed, DeadLetterSequenceParam, PageQuery, STREAMS } from '@troupe/contracts';
import { READ_ROLES, Roles } from '../auth/roles.decorator';
import { ProblemResponses, ZodParam, ZodQuery, ZodResponse } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { GATEWAY_PORTS, type GatewayPorts } from '../ports';

// Decorator metadata of a parameter typed by a name that is also a zod schema would carry the schema
// object (Swagger then reads it as a class); these aliases carry plain Object.
type ParsedPageQuery = z.infer<typeof PageQuery>;

/** The cursor of a dead-letter page: the last sequence seen, in decimal. */
function afterSequenceOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) throw new BadRequestException({ title: 'Invalid cursor', issues: ['cursor: not a cursor returned by a previous page'] });
  return Number(cursor);
}

/** `/dead-letters`: list and replay messages that failed validation or exhausted their deliveries. */
@ApiTags('dead-letters')
@ApiSecurity('api-key')
@ApiSecurity('jwt')
@Controller('dead-letters')
export class DeadLettersController {
  constructor(@Inject(GATEWAY_PORTS) private readonly ports: GatewayPorts) {}

  @Get()
  @Roles(...READ_ROLES)
  @ApiOperation({ summary: 'Dead letters, oldest first (cursor pagination)' })
  @ZodQuery(PageQuery)
  @ZodResponse(200, 'one page', DeadLetterPage)
  @ProblemResponses(400)
  async list(@Query(new ZodValidationPipe(PageQuery, 'query')) query: ParsedPageQuery): Promise<DeadLetterPage> {
    const items = await listDeadLetters(this.ports.nats, { limit: query.limit, afterSequence: afterSequenceOf(query.cursor) });
    return { items, nextCursor: items.length === query.limit ? String(items[items.length - 1].sequence) : null };
  }

  /**
   * Republishes one dead letter to its original subject and removes it. A sequence the stream has
   * passed whose message is gone was replayed before (a replay is the only deletion; the 30-day age
   * limit the only other way out), so that is a 409; a sequence never written, 404.
   */
  @Post(':sequence/replay')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Replay one dead letter to its original subject' })
  @ZodParam('sequence', DeadLetterSequenceParam)
  @ZodResponse(200, 'replayed', DeadLetterReplayed)
  @ProblemResponses(400, 404, 409)
  async replay(@Param('sequence', new ZodValidationPipe(DeadLetterSequenceParam, 'sequence')) sequence: number): Promise<DeadLetterReplayed> {
    try {
      const replay = await replayDeadLetter(this.ports.nats, sequence);
      return {
        sequence: replay.sequence,
        republishedTo: replay.subject,
        msgId: replay.msgId,
        stream: replay.stream,
        streamSequence: replay.streamSequence,
        duplicate: replay.duplicate,
        deadLetter: replay.deadLetter,
      };
    } catch (error) {
      if (error instanceof DeadLetterTruncatedError) throw new ConflictException({ title: 'Dead letter truncated', message: error.message });
      if (error instanceof DeadLetterOriginMismatchError) throw new ConflictException({ title: 'Dead letter origin mismatch', message: error.message });
      if (!(error instanceof DeadLetterNotFoundError)) throw error;
      const { state } = await (await this.ports.nats.jetstreamManager()).streams.info(STREAMS.deadLetters.name);
      if (sequence <= state.last_seq) {
        throw new ConflictException({ title: 'Already replayed', message: `dead letter ${sequence} was replayed before (or expired)` });
      }
      throw new NotFoundException({ title: 'Dead letter not found', message: error.message });
    }
  }
}
