import { Body, Controller, Delete, Get, HttpCode, Patch } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audit-context';
import { DashboardAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { UuidParam } from '../common/params';
import { DirectoryService } from '../directory/directory.service';
import { Person, UpdatePersonDto } from './dto/persons.dto';
import { PersonErasureService } from './person-erasure.service';

@ApiTags('Directory')
@Controller('v1/customers/:customer_id/persons/:person_id')
@DashboardAuth('tenant-admin')
export class PersonsController {
  constructor(
    private readonly directory: DirectoryService,
    private readonly erasure: PersonErasureService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Get Person' })
  @ApiResponse({ status: 200, type: Person })
  get(
    @CurrentPrincipal() p: Principal,
    @UuidParam('customer_id') customerId: string,
    @UuidParam('person_id') id: string,
  ): Promise<Person> {
    return this.directory.getPerson(p.tenantId, customerId, id);
  }

  @Audited()
  @Patch()
  @ApiOperation({
    summary: 'Update Person',
    description: 'Fields left out are kept; a null email or phone is cleared.',
  })
  @ApiResponse({ status: 200, type: Person })
  update(
    @CurrentPrincipal() p: Principal,
    @UuidParam('customer_id') customerId: string,
    @UuidParam('person_id') id: string,
    @Body() dto: UpdatePersonDto,
  ): Promise<Person> {
    return this.directory.updatePerson(p.tenantId, customerId, id, dto);
  }

  @Audited()
  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Erase Person',
    description:
      'Erasure: name, email and phone are removed, the live worker bindings revoked, and every ' +
      'binding address of the person, in the bindings and in the events that carried them, ' +
      'replaced by `erased:<binding id>`. The id stays, so histories keep naming it; the person ' +
      'is gone from every route, and a second erasure is a 404.',
  })
  async erase(
    @CurrentPrincipal() p: Principal,
    @UuidParam('customer_id') customerId: string,
    @UuidParam('person_id') id: string,
  ): Promise<void> {
    await this.erasure.erase(p, customerId, id);
  }
}
