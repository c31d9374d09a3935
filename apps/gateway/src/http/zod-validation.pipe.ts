import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { formatIssues } from '@troupe/contracts';

/** Parses a request part with a zod schema; a failure is a 400 problem listing every issue path. */
export class ZodValidationPipe<T> implements PipeTransform<unknown, T> {
  constructor(
    private readonly schema: z.ZodType<T>,
    private readonly what: string,
  ) {}

  transform(value: unknown): T {
    const result = this.schema.safeParse(value);
    if (!result.success) {
      throw new BadRequestException({ title: `Invalid ${this.what}`, issues: formatIssues(result.error) });
    }
    return result.data;
  }
}
