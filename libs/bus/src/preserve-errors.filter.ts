import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * An RPC exception filter that rethrows a handler's error unchanged, so {@link JetStreamServer} can tell
 * retryable from non-retryable failures. Install it globally on every JetStream microservice
 * (`app.useGlobalFilters(new PreserveErrorsFilter())`).
 */
@Catch()
export class PreserveErrorsFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
