using Microsoft.Extensions.DependencyInjection;
using Orleans.GrainReferences;
using Orleans.Metadata;
using Orleans.Runtime;

namespace Nudge.Runtime.Customers;

/// <summary>
/// References to customer grains for the hot paths (dispatch, timers). <c>GetGrain</c> resolves the
/// grain interface by reading its attributes on every call — at tens of thousands of calls a second
/// that is a few percent of the CPU — so the interface and grain types are resolved once here.
/// </summary>
public sealed class CustomerGrains(IServiceProvider services)
{
    private Resolved? _resolved;

    private sealed record Resolved(GrainType Type, GrainInterfaceType Interface, GrainReferenceActivator Activator);

    /// <summary>The grain of a customer.</summary>
    public ICustomerGrain Get(string customerId)
    {
        var r = _resolved ??= Resolve();
        return (ICustomerGrain)r.Activator.CreateReference(GrainId.Create(r.Type, IdSpan.Create(customerId)), r.Interface);
    }

    private Resolved Resolve()
    {
        var interfaceType = services.GetRequiredService<GrainInterfaceTypeResolver>().GetGrainInterfaceType(typeof(ICustomerGrain));
        var grainType = services.GetRequiredService<GrainInterfaceTypeToGrainTypeResolver>().GetGrainType(interfaceType);
        return new Resolved(grainType, interfaceType, services.GetRequiredService<GrainReferenceActivator>());
    }
}
