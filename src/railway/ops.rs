//! Every GraphQL operation the client sends, by name. tests/railway_contract.rs validates each
//! document against contracts/railway/schema.json (the introspected schema of railwayapp/cli
//! src/gql/schema.json at df3838b) with apollo-compiler, and every request the sandbox saw
//! against the same schema. Field and argument types below are the schema's.

/// One named operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The `operationName` sent with it (the server dispatches on the document; the name
    /// must match the document's).
    pub name: &'static str,
    pub document: &'static str,
    /// True for a mutation: sent once (only a 429 or a connection that never opened is
    /// retried).
    pub mutation: bool,
}

/// The fields we read of a `Deployment` (schema type `Deployment`: `id: ID!`,
/// `status: DeploymentStatus!`, `createdAt: DateTime!`, `canRollback: Boolean!`,
/// `meta: DeploymentMeta`, `serviceId: String`, `environmentId: String!`).
macro_rules! deployment_fields {
    () => {
        "id status createdAt canRollback meta serviceId environmentId"
    };
}

/// `projectToken { projectId environmentId }`: which environment a project token is for
/// (docs integrations/api.md:100-107).
pub const PROJECT_TOKEN: Operation = Operation {
    name: "ProjectToken",
    document: "query ProjectToken { projectToken { projectId environmentId } }",
    mutation: false,
};

/// `deployments(input: DeploymentListInput!, first: Int)` (cli src/gql/queries/strings/
/// Deployments.graphql; docs manage-deployments.md:12-24). The order of the answer is not
/// relied on: the client sorts by `createdAt`.
pub const DEPLOYMENTS: Operation = Operation {
    name: "Deployments",
    document: concat!(
        "query Deployments($input: DeploymentListInput!, $first: Int) { ",
        "deployments(input: $input, first: $first) { edges { node { ",
        deployment_fields!(),
        " } } } }"
    ),
    mutation: false,
};

/// `deployment(id: String!)` (cli DeploymentStatus.graphql).
pub const DEPLOYMENT: Operation = Operation {
    name: "Deployment",
    document: concat!(
        "query Deployment($id: String!) { deployment(id: $id) { ",
        deployment_fields!(),
        " } }"
    ),
    mutation: false,
};

/// `serviceInstanceUpdate(serviceId: String!, environmentId: String,
/// input: ServiceInstanceUpdateInput!): Boolean!`, here with `input.source.image`
/// (schema `ServiceSourceInput { image repo }`; cli ServiceInstanceUpdate.graphql).
pub const SERVICE_INSTANCE_UPDATE: Operation = Operation {
    name: "ServiceInstanceUpdate",
    document: "mutation ServiceInstanceUpdate($serviceId: String!, $environmentId: String, $input: ServiceInstanceUpdateInput!) { serviceInstanceUpdate(serviceId: $serviceId, environmentId: $environmentId, input: $input) }",
    mutation: true,
};

/// `serviceInstanceDeployV2(commitSha: String, environmentId: String!, serviceId: String!):
/// String!`, the new deployment's id (cli ServiceInstanceDeploy.graphql, which sends no
/// commit; the schema takes one).
pub const SERVICE_INSTANCE_DEPLOY: Operation = Operation {
    name: "ServiceInstanceDeployV2",
    document: "mutation ServiceInstanceDeployV2($environmentId: String!, $serviceId: String!, $commitSha: String) { serviceInstanceDeployV2(environmentId: $environmentId, serviceId: $serviceId, commitSha: $commitSha) }",
    mutation: true,
};

/// `deploymentCancel(id: String!): Boolean!` (docs manage-deployments.md:145-155: a
/// deployment that is building or queued).
pub const DEPLOYMENT_CANCEL: Operation = Operation {
    name: "DeploymentCancel",
    document: "mutation DeploymentCancel($id: String!) { deploymentCancel(id: $id) }",
    mutation: true,
};

/// `deploymentRollback(id: String!): Boolean!` (schema; docs manage-deployments.md:124-135
/// show a selection set, which the schema's Boolean cannot take). Restores the deployment's
/// image and custom variables as a new deployment (deployment-actions.md:24-25).
pub const DEPLOYMENT_ROLLBACK: Operation = Operation {
    name: "DeploymentRollback",
    document: "mutation DeploymentRollback($id: String!) { deploymentRollback(id: $id) }",
    mutation: true,
};

/// `deploymentRedeploy(id: String!, usePreviousImageTag: Boolean): Deployment!` (cli
/// DeploymentRedeploy.graphql): a new deployment from that deployment's source.
pub const DEPLOYMENT_REDEPLOY: Operation = Operation {
    name: "DeploymentRedeploy",
    document: concat!(
        "mutation DeploymentRedeploy($id: String!, $usePreviousImageTag: Boolean) { ",
        "deploymentRedeploy(id: $id, usePreviousImageTag: $usePreviousImageTag) { ",
        deployment_fields!(),
        " } }"
    ),
    mutation: true,
};

/// Every operation, for the contract test.
pub const ALL: &[Operation] = &[
    PROJECT_TOKEN,
    DEPLOYMENTS,
    DEPLOYMENT,
    SERVICE_INSTANCE_UPDATE,
    SERVICE_INSTANCE_DEPLOY,
    DEPLOYMENT_CANCEL,
    DEPLOYMENT_ROLLBACK,
    DEPLOYMENT_REDEPLOY,
];
